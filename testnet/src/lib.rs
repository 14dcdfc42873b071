/*!
Arena's local network, as a library (used by integration tests, which start their own network on
free ports) and as the `testnet` binary (which keeps one network running for people).

- [`profile`]: chain profiles (`injectived`, `wasmd`) from `profiles.toml`.
- [`accounts`]: the deterministic, documented test accounts.
- [`chain`] and [`evm`]: a single-validator Cosmos SDK chain and an anvil node, each a child process
  stopped by PID.
- [`network`]: both together, with their ports and home folder.
- [`contracts`]: builds every CosmWasm contract to MVP wasm, checks it with `cosmwasm-check`.
- [`demo`]: a whole multi-round competition with worker nodes and relayers, and its report.
- [`script`]: one market round driven by hand, for the real-chain tests.
- [`instruct`]: the vendored instruction set cut into a language-model task's chat files.
- [`deploy`]: stores and instantiates the contracts; `testnet deploy` writes the [`manifest::Manifest`].
*/

pub mod accounts;
/// The manifest type lives in arena-client, which every part that reads it already uses.
pub use arena_client::manifest;
pub mod chain;
pub mod contracts;
pub mod demo;
pub mod deploy;
pub mod error;
pub mod evm;
pub mod instruct;
pub mod network;
pub mod probe;
pub mod process;
pub mod profile;
pub mod repo;
pub mod script;
pub mod task;

pub use error::TestnetError;
pub use network::{Network, NetworkConfig, Ports};
