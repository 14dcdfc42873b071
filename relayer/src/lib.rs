//! Arena's relayer: settles reward batches sealed by the bridge on the Cosmos chain to Base Sepolia
//! (anvil with `--chain-id 84532` locally).
//!
//! - [`evm`]: the EVM side: typed bindings of the committed Solidity artifacts, EIP-712 batch
//!   attestations, and [`evm::EvmClient`] (deploy, post, claim, reads, receipts with a
//!   confirmation depth).
#![warn(missing_docs, unreachable_pub)]

pub mod evm;
