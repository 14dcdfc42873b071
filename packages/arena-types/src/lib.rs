/*!
Arena's shared vocabulary: the messages of every contract and the pure logic that the contracts,
the gpu-worker and the relayer must compute identically (consensus, rewards, validator sampling,
the settlement Merkle tree and digests). Nothing here touches a chain, so all of it is tested
without one.
*/

pub mod market;
pub mod migrate;
pub mod settlement;
