//! Arena's relayer: settles reward batches sealed by the bridge on the Cosmos chain to Base Sepolia
//! (anvil with `--chain-id 84532` locally). Several relayers run at once; none keeps state that
//! matters: both chains are the record, so a relayer killed at any instant and restarted finishes
//! every batch exactly once.
//!
//! - [`config`]: the TOML configuration (`config.example.toml` documents every key), secrets
//!   from files or the environment, never logged.
//! - [`settle`]: the settlement loop (verify, attest, post, confirm) on tokio tasks under a
//!   Continue / Ignore / Fatal step contract.
//! - [`bridge`]: the arena-bridge contract's paginated queries and the leaves' root check.
//! - [`service`]: the tonic service `arena.relayer.v1.Relayer` with health and reflection.
//! - [`metrics`]: Prometheus metrics at `/metrics`.
//! - [`run`]: the `start` command: loop, gRPC and metrics together until a signal.
//! - [`claim`]: claiming on the EVM side with a proof fetched from a relayer.
//!
//! The EVM side (typed bindings of the committed Solidity artifacts, EIP-712 batch attestations,
//! and [`arena_evm::EvmClient`]: deploy, post, claim, reads) is the `arena-evm` crate.
#![warn(missing_docs, unreachable_pub)]

pub mod bridge;
pub mod claim;
pub mod config;
pub mod error;
pub mod metrics;
pub mod run;
pub mod service;
pub mod settle;

pub use error::RelayerError;

/// Code generated from `proto/arena/relayer/v1/relayer.proto` by tonic-build (through protox).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod proto {
    tonic::include_proto!("arena.relayer.v1");

    /// The encoded descriptor set of the service, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/relayer_descriptor.bin"));
}
