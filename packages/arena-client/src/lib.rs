/*!
Arena's chain client: everything the testnet tool, the gpu-worker and the relayer need to talk to
a Cosmos SDK chain with CosmWasm over gRPC, built on `cosmrs` and `tonic`.

- [`Signer`]: a secp256k1 key (coin type 118) from a BIP39 mnemonic, a key file or an environment
  variable. Its `Debug` never shows the secret.
- [`ChainConfig`]: the chain's id, gRPC endpoint, bech32 prefix, fee denom and gas price. Nothing
  chain-specific is a constant in code, so the same client drives `injectived` and `wasmd`.
- [`Client`]: typed smart queries, bank balances, heights, and transactions that are simulated,
  priced, signed, broadcast and awaited until included in a block ([`TxOutcome`]); through one
  gRPC endpoint or several of the same chain, failing over between them ([`endpoints`]) without
  ever sending a transaction twice.
- [`MarketClient`]: the arena-market contract through its own message types.
- [`BeaconSecret`]: a task creator's beacon secret, its hash chain and its private file;
  [`MarketClient::reveal_due_beacon`] reveals what is due.
- [`shard`]: hidden evaluation shards (ChaCha20-Poly1305) and the creator's [`EvaluationKeys`];
  [`MarketClient::reveal_due_evaluation_key`] reveals the key that is due.
- [`Blocks`]: new blocks as the node commits them (CometBFT websocket), for once-per-block loops;
  from one node or the first healthy of several.
- Failures: [`ClientError`] implements [`arena_retry::Classify`]: what is transient when
  talking to the chain is decided there, once; [`retry`] and [`Backoff`] are re-exported.
- Keys come from an [`arena_config::KeySource`] ([`Signer::from_source`]).

Every failure is a [`ClientError`] whose message says what happened and what to do.
*/

mod beacon;
mod blocks;
mod client;
mod config;
pub mod endpoints;
mod error;
mod keys;
pub mod manifest;
mod market;
pub mod shard;
mod tx;

pub use beacon::BeaconSecret;
pub use blocks::{Blocks, PerBlock, Wake};
pub use client::Client;
pub use config::{ChainConfig, GasPrice};
pub use error::ClientError;
pub use keys::{derive_secret_key, Signer, COSMOS_COIN_TYPE, DEVNET_MNEMONIC};
pub use manifest::Manifest;
pub use market::{BeaconStep, KeyStep, MarketClient};
pub use shard::EvaluationKeys;
pub use tx::{Event, TxOutcome};

/// Re-exported so callers build messages and coins with the same `cosmrs` version as the client.
pub use cosmrs;

pub use arena_config::KeySource;
pub use arena_retry::{retry, Backoff, Classify, ErrorClass};
