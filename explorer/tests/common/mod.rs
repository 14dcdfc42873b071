//! Helpers of the explorer's integration tests.

pub mod browser;
