//! The relayer's error type: every failure of the settlement loop, the service and the CLI, with
//! its [`Classify`] impl deciding between "try again", "this batch is refused" and "an operator must look".

use arena_client::ClientError;
use arena_evm::EvmError;
use arena_retry::{Classify, ErrorClass};
use arena_types::settlement::error::SettlementError;

/// Everything that can go wrong in the relayer.
#[derive(Debug, thiserror::Error)]
pub enum RelayerError {
    /// The configuration file is missing, malformed or incomplete.
    #[error("config: {0}")]
    Config(String),
    /// A secret (key file or environment variable) cannot be read or parsed. Never holds the secret.
    #[error("secret {source_name}: {reason}")]
    Secret {
        /// The file path or `$VAR` that was read.
        source_name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The Cosmos chain refused or could not answer.
    #[error("cosmos: {0}")]
    Cosmos(#[from] ClientError),
    /// The EVM chain refused or could not answer.
    #[error("evm: {0}")]
    Evm(#[from] EvmError),
    /// The bridge answered something that does not parse (a root, an address, a signature).
    #[error("bridge answer: {0}")]
    Malformed(#[from] SettlementError),
    /// The root the bridge stores is not the root of the leaves it serves: never attested.
    #[error("batch {batch_id}: bridge root {bridge} but the leaves hash to {computed}; refusing to attest")]
    RootMismatch {
        /// The batch.
        batch_id: u64,
        /// Root the bridge stores.
        bridge: String,
        /// Root recomputed from the leaves.
        computed: String,
    },
    /// The bridge's leaves do not add up to its count or total, or are numbered wrongly.
    #[error("batch {batch_id}: {reason}; refusing to attest")]
    InconsistentBatch {
        /// The batch.
        batch_id: u64,
        /// What does not add up.
        reason: String,
    },
    /// The bridge's digest differs from the one computed for the configured settlement contract:
    /// the bridge points at another settlement address or chain than this relayer.
    #[error(
        "batch {batch_id}: the bridge's digest is {bridge:?}, this relayer computes {computed} for settlement {settlement}; \
         check `evm.settlement` and `evm.chain_id` against the bridge's config (set_evm_settlement)"
    )]
    DigestMismatch {
        /// The batch.
        batch_id: u64,
        /// Digest the bridge reports (none when its settlement address is unset).
        bridge: Option<String>,
        /// Digest computed here.
        computed: String,
        /// The configured settlement contract.
        settlement: String,
    },
    /// What the settlement contract holds under the batch id is not the bridge's batch (another
    /// source's batch, or attesters who signed two batches under one id): never confirmed.
    #[error(
        "batch {batch_id}: the settlement contract holds {evm} under this id but the bridge sealed {bridge}; \
         refusing to confirm a batch the bridge's users could not claim"
    )]
    PostedMismatch {
        /// The batch id.
        batch_id: u64,
        /// Root, total and count on the bridge.
        bridge: String,
        /// Root, total and count on the EVM side.
        evm: String,
    },
    /// The settlement contract was deployed for another chain or bridge than this relayer's.
    #[error(
        "the settlement contract {settlement} settles source (chain {evm_chain}, bridge {evm_bridge}), but this relayer's \
         bridge {bridge} on chain {chain_id} is (chain {our_chain}, bridge {our_bridge}); check `evm.settlement` and \
         `cosmos.bridge`, or deploy a settlement contract for this bridge"
    )]
    WrongSource {
        /// The configured settlement contract.
        settlement: String,
        /// Its `sourceChain`.
        evm_chain: String,
        /// Its `sourceBridge`.
        evm_bridge: String,
        /// The configured bridge.
        bridge: String,
        /// The configured Cosmos chain id.
        chain_id: String,
        /// keccak256 of the chain id.
        our_chain: String,
        /// keccak256 of the bridge address.
        our_bridge: String,
    },
    /// A gRPC call to a relayer failed (CLI side).
    #[error("relayer gRPC: {0}")]
    Rpc(String),
    /// Local I/O (listeners, files).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// What the relayer's loop and its gRPC answers make of each error: the chains' errors keep
/// their clients' classification; a batch whose data disagrees between the chains is refused
/// (logged as an error, the other batches go on); a bad config, key or listener is fatal.
impl Classify for RelayerError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Cosmos(e) => e.class(),
            Self::Evm(e) => e.class(),
            Self::Rpc(_) => ErrorClass::Transient,
            Self::Malformed(_)
            | Self::RootMismatch { .. }
            | Self::InconsistentBatch { .. }
            | Self::DigestMismatch { .. }
            | Self::PostedMismatch { .. }
            | Self::WrongSource { .. } => ErrorClass::Refused,
            Self::Config(_) | Self::Secret { .. } | Self::Io { .. } => ErrorClass::Fatal,
        }
    }
}

impl RelayerError {
    /// A short label for the `errors_total{kind}` metric.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::Secret { .. } => "secret",
            Self::Cosmos(_) => "cosmos",
            Self::Evm(_) => "evm",
            Self::Malformed(_) => "malformed",
            Self::RootMismatch { .. } => "root_mismatch",
            Self::InconsistentBatch { .. } => "inconsistent_batch",
            Self::DigestMismatch { .. } => "digest_mismatch",
            Self::PostedMismatch { .. } => "posted_mismatch",
            Self::WrongSource { .. } => "wrong_source",
            Self::Rpc(_) => "rpc",
            Self::Io { .. } => "io",
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_outages_are_transient_mismatches_refused_and_bad_configs_fatal() {
        let down =
            RelayerError::Cosmos(ClientError::NodeUnreachable { url: "http://x".into(), reason: "refused".into() });
        assert!(down.is_transient());
        let mismatch = RelayerError::RootMismatch { batch_id: 1, bridge: "0xaa".into(), computed: "0xbb".into() };
        assert_eq!(mismatch.class(), ErrorClass::Refused);
        assert_eq!(mismatch.kind(), "root_mismatch");
        assert!(RelayerError::Config("x".into()).is_fatal());
    }
}
