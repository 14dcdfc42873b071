//! The testnet's one error type. Messages say what to do.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TestnetError {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },

    #[error("port {port} ({what}) is already in use on 127.0.0.1. Another network may be running (`testnet status`), or pick other ports (`testnet up --help`)")]
    PortInUse { port: u16, what: &'static str },

    #[error("a network is already running from {home} ({what} pid {pid}); `testnet down` stops it")]
    AlreadyRunning { home: PathBuf, what: &'static str, pid: u32 },

    #[error("{tool} not found at {path}. {hint}")]
    ToolMissing { tool: &'static str, path: PathBuf, hint: &'static str },

    #[error("`{command}` failed ({status}): {output}")]
    Command { command: String, status: String, output: String },

    #[error("{what} did not become ready within {secs} s; its log is {log}")]
    NotReady { what: &'static str, secs: u64, log: PathBuf },

    #[error("{what} exited before its work was done; its log is {log}")]
    Exited { what: String, log: PathBuf },

    #[error("unknown chain profile {name:?}; profiles.toml defines {known}")]
    UnknownProfile { name: String, known: String },

    #[error("profiles: {0}")]
    Profile(String),

    #[error("contract build: {0}")]
    Build(String),

    #[error("data set {path}: {reason}")]
    Data { path: PathBuf, reason: String },

    #[error("EVM: {0}. `testnet status` says whether the EVM node runs; its log is <home>/evm/anvil.log")]
    Evm(#[source] Box<arena_evm::EvmError>),

    #[error("{what} `{value}` is not an EVM address: {reason}")]
    EvmAddress { what: String, value: String, reason: String },

    #[error(transparent)]
    Client(#[from] arena_client::ClientError),

    /// Pretraining, loading or sampling a language model (the demo's language-model task).
    #[error("language model: {0}")]
    Compute(#[from] gpu_worker::Error),
}

// Boxed: an EvmError (alloy's transport and contract errors inside) is several times the size of
// every other variant, and would make each `Result<_, TestnetError>` that large.
impl From<arena_evm::EvmError> for TestnetError {
    fn from(error: arena_evm::EvmError) -> Self {
        TestnetError::Evm(Box::new(error))
    }
}

impl TestnetError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| TestnetError::Io { context, source }
    }

    /// For `.map_err`: `value`, named `what`, failed to parse as an EVM address.
    pub fn evm_address<E: std::fmt::Display>(what: impl Into<String>, value: &str) -> impl FnOnce(E) -> Self {
        let (what, value) = (what.into(), value.to_string());
        move |e| TestnetError::EvmAddress { what, value, reason: e.to_string() }
    }
}
