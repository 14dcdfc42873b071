//! The task market: its messages and the pure logic of consensus, rewards and validator sampling.
//!
//! Everything the arena-market contract decides by formula lives here as plain functions on plain
//! types, so a worker, a UI or an auditor recomputes the same numbers from chain state.

pub mod commitment;
pub mod median;
pub mod msg;
pub mod params;
pub mod phase;
pub mod rewards;
pub mod sampling;
