//! The worker as a node of a live arena: it holds a key, watches its task on the chain, and does
//! its role's work every round without a human.
//!
//! - [`trainer`]: joins, and in each submission phase trains a model, stores it, submits its commitment.
//! - [`validator`]: joins, evaluates its assignments, journals score and salt, commits, reveals,
//!   and cranks assignment and finalization.
//! - [`creator`]: reveals the task's beacon value each round once the round's stakes freeze.
//! - [`store`] and [`serve`]: models kept under their sha256, fetched by `file://` or `http(s)://`
//!   with the hash checked first, and served over HTTP to other machines.
//! - [`journal`]: what a validator committed to, on disk before the commit is sent.
//! - [`commands`]: the `run`, `serve`, `status`, `rewards` and `claim` subcommands.

pub mod commands;
pub mod config;
pub mod context;
pub mod creator;
pub mod error;
pub mod journal;
pub mod serve;
pub mod store;
pub mod tick;
pub mod trainer;
pub mod validator;

pub use config::{NodeConfig, NodeRole};
pub use context::Node;
pub use error::NodeError;
