/*!
Arena's settlement outbox to Base Sepolia (docs/design.md, "Settlement to Base Sepolia").

- [x] withdrawals: the accepted cw20 arrives through `send` with a `withdraw` hook and is queued
  for an EVM recipient (the tokens stay locked here; the EVM side mints against them)
- [x] sealing: anyone seals the oldest queued withdrawals into a batch once the batch policy allows
  it; the contract computes the OpenZeppelin `StandardMerkleTree` root itself
- [x] attestations: EIP-712 signatures of the batch, recovered on chain with
  `secp256k1_recover_pubkey` and counted against the attester set and threshold
- [x] confirmations: a relayer records the EVM transaction that posted a batch
- [x] proofs: any leaf's Merkle proof, computed in a query
- [x] admin: attester set, threshold, EVM settlement address, batch policy, pause; cw2 migration

The messages and the tree, digest and signature rules live in [`arena_types::settlement`], shared
with the relayer. Files: `contract.rs` (entry points; `execute` checks the pause once and
dispatches), `withdraw.rs`, `seal.rs`, `attest.rs` (attestations and confirmation votes),
`admin.rs`, `query.rs`, `state.rs` (every storage item), `error.rs`.
*/

mod admin;
mod attest;
pub mod contract;
pub mod error;
pub mod msg;
mod query;
mod seal;
pub mod state;
mod withdraw;

#[cfg(test)]
mod testing;

pub use crate::error::ContractError;
