//! The client's one error type. Messages name what failed and what to do about it.

use thiserror::Error;

/// Cosmos SDK error codes (codespace `sdk`) the client reacts to.
pub mod sdk_code {
    pub const INSUFFICIENT_FUNDS: u32 = 5;
    pub const INSUFFICIENT_FEE: u32 = 13;
    pub const WRONG_SEQUENCE: u32 = 32;
}

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot reach the chain's gRPC endpoint {url}: {reason}. Is the node running? (`testnet status` tells; `testnet up` starts it)")]
    NodeUnreachable { url: String, reason: String },

    #[error("account {address} does not exist on chain: it has never received tokens. Fund it first (on the devnet, use one of the test accounts that genesis funds)")]
    AccountNotFound { address: String },

    #[error("the node refused the fee: {raw_log}. Raise the gas price in the chain config (the node's minimum-gas-prices is the floor)")]
    InsufficientFee { raw_log: String },

    #[error("account {address} cannot pay: {raw_log}")]
    InsufficientFunds { address: String, raw_log: String },

    #[error("transaction failed{}: code {code} ({codespace}): {raw_log}", txhash.as_deref().map(|h| format!(" (tx {h})")).unwrap_or_default())]
    TxFailed { txhash: Option<String>, code: u32, codespace: String, raw_log: String },

    #[error("simulation failed: {0}")]
    Simulation(String),

    #[error("transaction {txhash} was not included within {secs} s; it may still land: query it before resending")]
    InclusionTimeout { txhash: String, secs: u64 },

    #[error("query failed: {0}")]
    Query(String),

    #[error("cannot decode the chain's answer: {0}")]
    Decode(String),

    #[error("key: {0}")]
    Key(String),

    #[error("config: {0}")]
    Config(String),

    #[error("manifest {path}: {reason}. `testnet deploy` writes it for the local network")]
    Manifest { path: std::path::PathBuf, reason: String },
}

impl ClientError {
    /// Whether sending the same request again may succeed: a node that restarts, or a sequence
    /// that another transaction of the same account advanced in the meantime.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::NodeUnreachable { .. } | ClientError::InclusionTimeout { .. } => true,
            ClientError::TxFailed { code, codespace, .. } => codespace == "sdk" && *code == sdk_code::WRONG_SEQUENCE,
            _ => false,
        }
    }

    /// The sequence in the account's signature was stale; refetch it and sign again.
    pub fn is_sequence_mismatch(&self) -> bool {
        matches!(self, ClientError::TxFailed { code, codespace, .. } if codespace == "sdk" && *code == sdk_code::WRONG_SEQUENCE)
            || matches!(self, ClientError::Simulation(log) if log.contains("account sequence mismatch"))
    }

    pub(crate) fn from_status(url: &str, status: tonic::Status) -> Self {
        match status.code() {
            tonic::Code::Unavailable | tonic::Code::Unknown
                if status.message().contains("transport") || status.code() == tonic::Code::Unavailable =>
            {
                ClientError::NodeUnreachable { url: url.to_string(), reason: status.message().to_string() }
            }
            _ => ClientError::Query(format!("{}: {}", status.code(), status.message())),
        }
    }
}
