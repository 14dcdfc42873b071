//! The bridge's messages are defined in [`arena_types::settlement::msg`], where the market and
//! the relayer use them too; re-exported here as cw-plus contracts expose theirs.

pub use arena_types::settlement::msg::*;
