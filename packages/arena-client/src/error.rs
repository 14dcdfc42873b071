//! The client's one error type. Messages name what failed and what to do about it.

use arena_retry::{Classify, ErrorClass};
use thiserror::Error;

/// Cosmos SDK error codes (codespace `sdk`) the client reacts to.
pub mod sdk_code {
    pub const INSUFFICIENT_FUNDS: u32 = 5;
    pub const INSUFFICIENT_FEE: u32 = 13;
    pub const WRONG_SEQUENCE: u32 = 32;
    /// The node has this very transaction in its mempool (or its cache of recent ones).
    pub const TX_IN_MEMPOOL_CACHE: u32 = 19;
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

    #[error("transaction {txhash} will never be included: the chain passed its account sequence without it (another transaction of the account took it); sign the request again")]
    TxLost { txhash: String },

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

/// What is transient when talking to the chain, decided here for every caller (the retry of one
/// request, the relayer's and the nodes' loops).
impl Classify for ClientError {
    fn class(&self) -> ErrorClass {
        match self {
            // The node is away or restarting, the transaction may still land (query it before
            // resending: the client does), or another transaction of the account took the
            // sequence: the same request, signed again, may pass.
            ClientError::NodeUnreachable { .. } | ClientError::InclusionTimeout { .. } => ErrorClass::Transient,
            // Signed again with a fresh sequence, the same request may pass.
            ClientError::TxLost { .. } => ErrorClass::Transient,
            e if e.is_sequence_mismatch() => ErrorClass::Transient,
            // The chain refused this request (a contract error, a phase not open, an answer that
            // does not decode): the same bytes will not pass, but the chain moves on.
            ClientError::TxFailed { .. }
            | ClientError::Simulation(_)
            | ClientError::Query(_)
            | ClientError::Decode(_) => ErrorClass::Refused,
            // A person must act: fund the account, raise the gas price, fix the key or config.
            ClientError::AccountNotFound { .. }
            | ClientError::InsufficientFee { .. }
            | ClientError::InsufficientFunds { .. }
            | ClientError::Key(_)
            | ClientError::Config(_)
            | ClientError::Manifest { .. } => ErrorClass::Fatal,
        }
    }
}

impl ClientError {
    /// The sequence in the account's signature was stale; refetch it and sign again.
    pub fn is_sequence_mismatch(&self) -> bool {
        matches!(self, ClientError::TxFailed { code, codespace, .. } if codespace == "sdk" && *code == sdk_code::WRONG_SEQUENCE)
            || matches!(self, ClientError::Simulation(log) if log.contains("account sequence mismatch"))
    }

    /// The node did not answer at the connection level (refused, reset, unavailable): another
    /// node of the same chain may. Which endpoint is at fault, not whether to retry (that is
    /// [`Classify`]'s).
    pub fn is_node_failure(&self) -> bool {
        matches!(self, ClientError::NodeUnreachable { .. })
    }

    /// The node already has this very transaction (in its mempool or its cache of recent ones):
    /// a broadcast of the same bytes again, which is not a failure.
    pub fn is_tx_already_known(&self) -> bool {
        match self {
            ClientError::TxFailed { code, codespace, raw_log, .. } => {
                (codespace == "sdk" && *code == sdk_code::TX_IN_MEMPOOL_CACHE)
                    || raw_log.contains("already exists in cache")
            }
            ClientError::Query(message) => message.contains("already exists in cache"),
            _ => false,
        }
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
        assert!(broadcast.is_sequence_mismatch() && broadcast.is_transient());
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

    #[test]
    fn a_transaction_the_node_already_has_is_recognised() {
        assert!(failed(19, "sdk", "tx already in mempool").is_tx_already_known());
        assert!(ClientError::Query("Unknown: tx already exists in cache".into()).is_tx_already_known());
        assert!(!failed(19, "wasm", "something").is_tx_already_known());
        assert!(!failed(32, "sdk", "account sequence mismatch").is_tx_already_known());
    }

    #[test]
    fn only_connection_failures_point_at_the_node() {
        assert!(ClientError::NodeUnreachable { url: "u".into(), reason: "refused".into() }.is_node_failure());
        assert!(!ClientError::InclusionTimeout { txhash: "AB".into(), secs: 1 }.is_node_failure());
        assert!(!ClientError::Query("NotFound".into()).is_node_failure());
    }

    #[test]
    fn each_error_has_one_class() {
        let unreachable = ClientError::NodeUnreachable { url: "http://127.0.0.1:1".into(), reason: "refused".into() };
        let timeout = ClientError::InclusionTimeout { txhash: "AB".into(), secs: 30 };
        let stale = ClientError::Simulation(SIMULATION_LOG.into());
        let lost = ClientError::TxLost { txhash: "AB".into() };
        for e in [unreachable, timeout, stale, lost, failed(32, "sdk", "account sequence mismatch")] {
            assert_eq!(e.class(), ErrorClass::Transient, "{e}");
        }
        let refused = [
            failed(5, "wasm", "execute wasm contract failed: the commit phase has not begun"),
            ClientError::Simulation("out of gas".into()),
            ClientError::Query("NotFound: no such contract".into()),
            ClientError::Decode("unexpected end of input".into()),
        ];
        for e in refused {
            assert_eq!(e.class(), ErrorClass::Refused, "{e}");
        }
        let fatal = [
            ClientError::AccountNotFound { address: "inj1x".into() },
            ClientError::InsufficientFee { raw_log: "fee".into() },
            ClientError::InsufficientFunds { address: "inj1x".into(), raw_log: "spendable".into() },
            ClientError::Key("bad".into()),
            ClientError::Config("bad".into()),
            ClientError::Manifest { path: "m.json".into(), reason: "missing".into() },
        ];
        for e in fatal {
            assert_eq!(e.class(), ErrorClass::Fatal, "{e}");
        }
    }
}
