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

    /// The sequence the node expects, from a mismatch's log (`account sequence mismatch, expected
    /// 1, got 0`); `None` for other errors or a log without it.
    pub fn expected_sequence(&self) -> Option<u64> {
        let log = match self {
            ClientError::TxFailed { raw_log, .. } if self.is_sequence_mismatch() => raw_log,
            ClientError::Simulation(log) if self.is_sequence_mismatch() => log,
            _ => return None,
        };
        let after = &log[log.find("expected ")? + "expected ".len()..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        after[..digits].parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// injectived's answer to a simulation signed with a stale sequence (copied from a run).
    const SIMULATION_LOG: &str = "account sequence mismatch, expected 1, got 0: incorrect account sequence \
        [!injective!labs/cosmos-sdk@v0.50.14-inj.11/x/auth/ante/sigverify.go:290] With gas wanted: \
        '18446744073709551615' and gas used: '16125' ";

    fn failed(code: u32, codespace: &str, raw_log: &str) -> ClientError {
        ClientError::TxFailed { txhash: None, code, codespace: codespace.into(), raw_log: raw_log.into() }
    }

    #[test]
    fn a_stale_sequence_is_a_mismatch_that_names_the_expected_sequence() {
        let simulation = ClientError::Simulation(SIMULATION_LOG.into());
        assert!(simulation.is_sequence_mismatch());
        assert_eq!(simulation.expected_sequence(), Some(1));

        let broadcast = failed(32, "sdk", "account sequence mismatch, expected 17, got 15: incorrect account sequence");
        assert!(broadcast.is_sequence_mismatch() && broadcast.is_retryable());
        assert_eq!(broadcast.expected_sequence(), Some(17));
    }

    #[test]
    fn a_mismatch_without_the_number_is_still_a_mismatch() {
        let err = failed(32, "sdk", "incorrect account sequence");
        assert!(err.is_sequence_mismatch());
        assert_eq!(err.expected_sequence(), None);
    }

    #[test]
    fn other_failures_are_no_mismatch() {
        // Code 32 of another module, another sdk code, another simulation failure.
        for err in [
            failed(32, "wasm", "expected 3"),
            failed(13, "sdk", "insufficient fee, expected 5"),
            ClientError::Simulation("out of gas, expected 100".into()),
        ] {
            assert!(!err.is_sequence_mismatch(), "{err}");
            assert_eq!(err.expected_sequence(), None, "{err}");
        }
    }
}
