//! The market's messages live in `arena_types::market::msg`, shared with the worker and client.

pub use arena_types::market::msg::*;
