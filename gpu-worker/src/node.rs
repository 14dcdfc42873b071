//! The worker as a node of a live arena: it holds a key, watches its task on the chain, and does
//! its role's work every round without a human.
//!
//! - [`trainer`]: joins; in each submission phase trains a model, stores it, journals it and
//!   submits its sealed commitment; in the model-reveal phase opens it.
//! - [`validator`]: joins, opens the round's hidden evaluation shard once its key is revealed,
//!   checks and evaluates its assignments, journals score, baseline and salt, commits, reveals,
//!   and cranks assignment and finalization.
//! - [`adversary`]: FOR DEMONSTRATIONS ONLY, trainers that cheat (a copycat, an eval thief).
//! - [`check`]: a model file against its revealed metadata and the task's constraints.
//! - [`creator`]: reveals the task's beacon value each round once the round's stakes freeze, and
//!   each round's evaluation key once its commit phase opens.
//! - [`store`] and [`serve`]: models kept under their sha256, fetched by `file://` or `http(s)://`
//!   with the hash checked first, and served over HTTP to other machines.
//! - [`journal`]: what a trainer or validator committed to, on disk before the commitment is sent.
//! - [`commands`]: the `run`, `serve`, `status`, `rewards` and `claim` subcommands.

pub mod adversary;
pub mod check;
pub mod commands;
pub mod config;
pub mod context;
pub mod creator;
pub mod error;
pub mod journal;
pub mod lm;
pub mod serve;
pub mod store;
pub mod trainer;
pub mod validator;

pub use config::{NodeConfig, NodeRole};
pub use context::Node;
pub use error::NodeError;
