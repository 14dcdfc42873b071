use arena_types::migrate::MigrateError;
use arena_types::settlement::SettlementError;
use cosmwasm_std::{Addr, OverflowError, StdError, Uint128};
use thiserror::Error;

/// Every way a bridge message can fail. Messages carry the values involved and say what to do.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    /// A sum of amounts past Uint128 (it cannot happen while the token's supply fits Uint128).
    #[error("{0}")]
    Overflow(#[from] OverflowError),

    /// Malformed EVM address, hex, signature.
    #[error("{0}")]
    Settlement(#[from] SettlementError),

    #[error("{0}")]
    Migrate(#[from] MigrateError),

    #[error("{sender} is not the admin ({admin}); send this from the admin account")]
    Unauthorized { sender: Addr, admin: Addr },

    #[error("{sender} is not the operator of any attester; only a registered relayer account may confirm batches")]
    NotRelayer { sender: Addr },

    #[error("the bridge accepts only the cw20 {accepted}, not {received}; send the accepted token")]
    WrongToken { received: Addr, accepted: Addr },

    #[error("cannot withdraw 0 tokens; send a positive amount")]
    ZeroAmount {},

    #[error("cannot withdraw to the zero address (tokens minted there are lost); give the recipient's EVM address")]
    ZeroRecipient {},

    #[error("the bridge is paused: withdrawals, sealing and attestations resume when the admin unpauses it")]
    Paused {},

    #[error("a withdrawal of {amount} is more than one batch may hold ({max}, the EVM settlement contract's uint112 total); withdraw it in parts of at most {max}")]
    WithdrawalTooLarge { amount: Uint128, max: Uint128 },

    #[error("nothing is queued: a batch needs at least one withdrawal")]
    NothingQueued {},

    #[error("no batch to seal yet: {queued} withdrawals queued (a batch seals at {max_leaves}), the oldest since height {oldest_height}; seal again at height {ready_at_height} or once {max_leaves} are queued")]
    NotReady { queued: u64, max_leaves: u32, oldest_height: u64, ready_at_height: u64 },

    #[error("batch {batch_id} does not exist; query `batches` for the sealed ones")]
    UnknownBatch { batch_id: u64 },

    #[error("the EVM settlement address is not set, so batch digests are undefined; the admin must send `set_evm_settlement` first")]
    SettlementAddressNotSet {},

    #[error("the signature for batch {batch_id} recovers no public key ({reason}); send the signer's 65-byte signature of the batch digest")]
    Unrecoverable { batch_id: u64, reason: String },

    #[error("the signature for batch {batch_id} recovers to {signer}, which is not an attester; sign digest {digest} with a registered attester key")]
    NotAttester { batch_id: u64, signer: String, digest: String },

    #[error("{signer} has already attested batch {batch_id}")]
    DuplicateAttestation { batch_id: u64, signer: String },

    #[error("batch {batch_id} is already confirmed on the EVM side (tx {evm_tx_hash}); it needs no more attestations")]
    BatchConfirmed { batch_id: u64, evm_tx_hash: String },

    #[error("batch {batch_id} has {attestations} of the {threshold} attestations it needs, so it cannot have been posted; attest it first")]
    NotAttested { batch_id: u64, attestations: u32, threshold: u32 },

    #[error("batch {batch_id} is confirmed with EVM tx {recorded}, not {given}; check which transaction posted it")]
    ConflictingConfirmation { batch_id: u64, recorded: String, given: String },

    #[error(
        "threshold {threshold} is invalid for {attesters} attesters; it must be between 1 and the number of attesters"
    )]
    InvalidThreshold { threshold: u32, attesters: u32 },

    #[error("the attester set has {count} members; it may hold at most {max}")]
    TooManyAttesters { count: u32, max: u32 },

    #[error("attester {evm_address} is listed twice; list each EVM key once")]
    DuplicateAttester { evm_address: String },

    #[error("max_leaves {max_leaves} is invalid; it must be between 1 and {limit}")]
    InvalidMaxLeaves { max_leaves: u32, limit: u32 },

    #[error("evm_chain_id must be the EVM chain's EIP-155 id (Base Sepolia: 84532), not 0")]
    InvalidChainId {},

    #[error(
        "the EVM settlement address must not be the zero address; give the deployed settlement contract's address"
    )]
    ZeroSettlementAddress {},

    #[error("batch {batch_id} is attested for the current settlement address and not yet confirmed; confirm it before changing the address, or its signatures are lost")]
    AttestedBatchPending { batch_id: u64 },
}
