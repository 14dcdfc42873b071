//! Arena's EVM client: the Base Sepolia side of settlement (ArenaSettlement and the ArenaToken it
//! deploys), used by the relayer to attest, post and claim and by `testnet` to deploy and claim.
//!
//! - [`bindings`]: `sol!` bindings generated from `contracts/evm/artifacts/*.json`, the artifacts
//!   `node contracts/evm/compile.mjs` writes and the repository commits.
//! - [`attest`]: the EIP-712 `Batch` attesters sign, hashed and signed with alloy's own EIP-712
//!   implementation, and the signer ordering `postBatch` requires.
//! - [`EvmClient`]: one signer's connection to a deployed settlement contract, over alloy's
//!   `DynProvider`: deploy, post, claim, the attester timelock and reads.
//! - [`EvmError`]: every failure, with revert data decoded into the contracts' custom errors, and
//!   its [`arena_retry::Classify`] impl: which failures are transient, refused or fatal.
#![warn(missing_docs, unreachable_pub)]

pub mod attest;
pub mod bindings;
mod client;
mod error;

pub use attest::Batch;
pub use client::{
    BatchSource, ClaimLeaf, Deployment, EvmClient, EvmConfig, MintAllowance, PostOutcome, PostedBatch,
    SettlementParams, TxOutcome,
};
pub use error::EvmError;
