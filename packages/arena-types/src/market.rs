//! The task market: its messages and the pure logic of consensus, rewards and validator sampling.
