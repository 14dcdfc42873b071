//! Errors of the EVM side, with revert data decoded into the contracts' custom errors.

use alloy::primitives::{SignatureError, B256};
use alloy::providers::PendingTransactionError;
use alloy::transports::{RpcError, TransportError};
use arena_retry::{Classify, ErrorClass};

use crate::bindings::{ArenaSettlement::ArenaSettlementErrors, ArenaToken::ArenaTokenErrors};

/// Everything that can go wrong talking to the settlement contract.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    /// ArenaSettlement refused the call with one of its custom errors.
    #[error("ArenaSettlement reverted: {0:?}")]
    Settlement(ArenaSettlementErrors),
    /// ArenaToken refused the call (directly, or inside a settlement claim).
    #[error("ArenaToken reverted: {0:?}")]
    Token(ArenaTokenErrors),
    /// The transaction was mined but reverted; the receipt carries no reason.
    #[error("transaction {tx_hash} reverted in block {block_number:?}")]
    Reverted {
        /// Hash of the reverted transaction.
        tx_hash: B256,
        /// Block it was mined in.
        block_number: Option<u64>,
    },
    /// The batch id is posted with another root: attesters signed two different batches under one
    /// id. Never retried; an operator must look.
    #[error("batch {batch_id} is posted with root {posted}, not {ours}: two batches share an id")]
    ConflictingBatch {
        /// The batch id.
        batch_id: u64,
        /// Root on chain.
        posted: B256,
        /// Root this relayer tried to post.
        ours: B256,
    },
    /// The RPC endpoint serves another chain than configured.
    #[error("the EVM RPC serves chain {actual}, the config says {expected}: check the RPC URL")]
    WrongChain {
        /// Chain id in the config.
        expected: u64,
        /// Chain id the endpoint reports.
        actual: u64,
    },
    /// The RPC URL does not parse.
    #[error("invalid EVM RPC URL `{url}`: {reason}")]
    InvalidRpcUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A deployment receipt names no contract address.
    #[error("deployment transaction {tx_hash} created no contract")]
    NotDeployed {
        /// Hash of the deployment transaction.
        tx_hash: B256,
    },
    /// A batch signature does not recover to an address.
    #[error("signature {index} does not recover a signer: {source}")]
    Unrecoverable {
        /// Position of the signature in the given list.
        index: usize,
        /// Why recovery failed.
        #[source]
        source: SignatureError,
    },
    /// The local signer failed.
    #[error("signing failed: {0}")]
    Sign(#[source] alloy::signers::Error),
    /// The RPC request failed (connection, HTTP status, or a JSON-RPC error without revert data).
    #[error("EVM RPC request failed: {0}")]
    Rpc(#[source] TransportError),
    /// Waiting for a transaction's receipt failed or timed out.
    #[error("waiting for transaction {tx_hash} failed: {source}")]
    Pending {
        /// Hash of the transaction waited for.
        tx_hash: B256,
        /// Why waiting failed.
        #[source]
        source: PendingTransactionError,
    },
    /// Any other contract-call failure (ABI encoding or decoding).
    #[error("contract call failed: {0}")]
    Contract(#[source] alloy::contract::Error),
}

/// What is transient on the EVM side: the node unreachable, rate limited (429) or failing (5xx),
/// a nonce or price race, a receipt that did not come in time (the transaction may still land:
/// the caller re-reads the chain), or the period's mint allowance spent (the same post passes in a
/// later period). A wrong chain, URL or signer needs an operator. Reverts, conflicts and other
/// RPC answers are refused: that request will not pass, the next pass looks afresh.
impl Classify for EvmError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Rpc(error) if transport_is_transient(error) => ErrorClass::Transient,
            Self::Pending { source: PendingTransactionError::TransportError(error), .. } => {
                if transport_is_transient(error) {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Refused
                }
            }
            // A timeout, or the provider's watcher task went away.
            Self::Pending { .. } => ErrorClass::Transient,
            Self::Settlement(ArenaSettlementErrors::MintRateExceeded(_)) => ErrorClass::Transient,
            Self::WrongChain { .. } | Self::InvalidRpcUrl { .. } | Self::Sign(_) => ErrorClass::Fatal,
            Self::Rpc(_)
            | Self::Settlement(_)
            | Self::Token(_)
            | Self::Reverted { .. }
            | Self::ConflictingBatch { .. }
            | Self::NotDeployed { .. }
            | Self::Unrecoverable { .. }
            | Self::Contract(_) => ErrorClass::Refused,
        }
    }
}

impl EvmError {
    /// Classifies a failed contract call: revert data becomes the contract's typed error.
    pub(crate) fn from_call(error: alloy::contract::Error) -> Self {
        if let Some(decoded) = error.as_decoded_interface_error::<ArenaSettlementErrors>() {
            return Self::Settlement(decoded);
        }
        if let Some(decoded) = error.as_decoded_interface_error::<ArenaTokenErrors>() {
            return Self::Token(decoded);
        }
        match error {
            alloy::contract::Error::TransportError(error) => Self::Rpc(error),
            other => Self::Contract(other),
        }
    }
}

impl From<TransportError> for EvmError {
    fn from(error: TransportError) -> Self {
        Self::Rpc(error)
    }
}

/// JSON-RPC error messages that mean "send again with a fresh nonce or price", across geth, reth
/// and anvil.
const TRANSIENT_MESSAGES: [&str; 4] =
    ["nonce too low", "replacement transaction underpriced", "already known", "header not found"];

fn transport_is_transient(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(kind) => {
            if kind.is_non_retryable() {
                return false;
            }
            match kind.as_http_error() {
                Some(http) => http.status == 429 || http.status >= 500,
                // Connection refused or reset, timeouts, a backend that went away.
                None => true,
            }
        }
        RpcError::ErrorResp(payload) => {
            payload.as_revert_data().is_none()
                && (payload.is_retry_err()
                    || TRANSIENT_MESSAGES.iter().any(|m| payload.message.to_ascii_lowercase().contains(m)))
        }
        RpcError::NullResp => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::rpc::json_rpc::ErrorPayload;
    use alloy::transports::TransportErrorKind;

    fn error_response(code: i64, message: &'static str) -> EvmError {
        EvmError::Rpc(RpcError::ErrorResp(ErrorPayload { code, message: message.into(), data: None }))
    }

    #[test]
    fn unreachable_node_and_server_errors_are_transient() {
        assert!(EvmError::Rpc(TransportErrorKind::custom_str("connection refused")).is_transient());
        assert!(EvmError::Rpc(TransportErrorKind::http_error(503, String::new())).is_transient());
        assert!(EvmError::Rpc(TransportErrorKind::http_error(429, String::new())).is_transient());
        assert!(EvmError::Rpc(RpcError::NullResp).is_transient());
    }

    #[test]
    fn client_errors_and_explicitly_final_transport_errors_are_not_transient() {
        assert!(!EvmError::Rpc(TransportErrorKind::http_error(401, String::new())).is_transient());
        assert!(!EvmError::Rpc(TransportErrorKind::non_retryable_str("bad TLS")).is_transient());
    }

    #[test]
    fn nonce_races_are_transient_and_reverts_refused() {
        assert!(error_response(-32000, "nonce too low").is_transient());
        assert!(error_response(-32000, "replacement transaction underpriced").is_transient());
        assert!(!error_response(3, "execution reverted").is_transient());
        assert!(!EvmError::Reverted { tx_hash: B256::ZERO, block_number: Some(1) }.is_transient());
        assert_eq!(
            EvmError::ConflictingBatch { batch_id: 1, posted: B256::ZERO, ours: B256::ZERO }.class(),
            ErrorClass::Refused
        );
        assert_eq!(EvmError::WrongChain { expected: 84532, actual: 1 }.class(), ErrorClass::Fatal);
    }
}
