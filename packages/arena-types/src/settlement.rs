//! Settlement to Base Sepolia: the withdrawal Merkle tree, the EIP-712 batch digest and the bridge's messages.
//!
//! The arena-bridge contract and the relayer both compute these, and the settlement contract on
//! the EVM side checks them, so each rule has exactly one implementation, here:
//! - [`evm`]: Keccak-256, the 20-byte [`EvmAddress`] (EIP-55 checksummed text) and hex helpers.
//! - [`merkle`]: OpenZeppelin's `StandardMerkleTree` over `(uint64 batchId, uint32 index,
//!   address recipient, uint256 amount)`, tested against the npm package itself.
//! - [`eip712`]: the digest attesters sign, `Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64
//!   batchId,bytes32 root,uint256 total,uint32 count)` under the domain `("ArenaSettlement", "1",
//!   chainId, verifyingContract)`; the source names the Cosmos chain and bridge that sealed it.
//! - [`signature`]: the pure half of signer recovery (65-byte `r || s || v` parsing, v
//!   normalisation, OpenZeppelin's high-s rejection, public key to address); the curve
//!   arithmetic itself is the chain's `secp256k1_recover_pubkey`.
//! - [`msg`]: the bridge's messages, including the cw20 hook other contracts use to withdraw.

pub mod eip712;
pub mod error;
pub mod evm;
pub mod merkle;
pub mod msg;
pub mod signature;

pub use eip712::{batch_digest, batch_struct_hash, domain_separator, BatchHeader, BatchSource, SettlementDomain};
pub use error::SettlementError;
pub use evm::{keccak256, Bytes32, EvmAddress};
pub use merkle::{hash_pair, process_proof, verify_proof, MerkleTree, WithdrawalLeaf};
pub use signature::{evm_address_from_pubkey, EvmSignature};
