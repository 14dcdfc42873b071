use arena_types::market::msg::Role;
use arena_types::market::params::ParamError;
use arena_types::market::phase::Phase;
use arena_types::settlement::SettlementError;
use cosmwasm_std::{Addr, Decimal, OverflowError, StdError, Uint128};
use thiserror::Error;

/// Everything the market refuses, with the values that explain why and what to do instead.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("amount overflow: {0}")]
    Overflow(#[from] OverflowError),

    #[error("{0}")]
    Migrate(#[from] arena_types::migrate::MigrateError),

    #[error("invalid task parameter: {0}")]
    InvalidParam(#[from] ParamError),

    #[error("unauthorized: only {expected} may do this")]
    Unauthorized { expected: String },

    #[error("the market is paused by its admin; only queries work until it resumes")]
    Paused {},

    #[error("tokens from {got} are not accepted: the market takes only its cw20 {expected}")]
    WrongToken { expected: Addr, got: Addr },

    #[error("amount must be greater than zero")]
    ZeroAmount {},

    #[error("task {task_id} does not exist")]
    UnknownTask { task_id: u64 },

    #[error("round {round} does not exist: task {task_id} has rounds 1 to {rounds}")]
    UnknownRound { task_id: u64, round: u32, rounds: u32 },

    #[error("submission {submission_id} does not exist in task {task_id}")]
    UnknownSubmission { task_id: u64, submission_id: u64 },

    #[error("{address} is not a participant of task {task_id}: stake first")]
    UnknownParticipant { task_id: u64, address: Addr },

    #[error("task {task_id} has ended (its last round closed at {ended_at})")]
    TaskEnded { task_id: u64, ended_at: u64 },

    #[error("{address} already takes part in task {task_id} as {role:?}: one role per address per task")]
    RoleTaken { task_id: u64, address: Addr, role: Role },

    #[error("this needs the {expected:?} role; {address} is a {actual:?}")]
    WrongRole { address: Addr, expected: Role, actual: Role },

    #[error("stake of {got} is below the task's minimum of {min} for this role")]
    StakeBelowMinimum { min: Uint128, got: Uint128 },

    #[error("only {available} is staked, cannot take {requested}")]
    InsufficientStake { available: Uint128, requested: Uint128 },

    #[error("task {task_id} already has the maximum of {max} validators")]
    ValidatorSetFull { task_id: u64, max: u32 },

    #[error("cannot delegate to yourself: stake in your role instead")]
    SelfDelegation {},

    #[error("round {round} is in its {actual:?} phase; this needs the {expected:?} phase")]
    WrongPhase { round: u32, expected: Phase, actual: Phase },

    #[error("{trainer} already submitted in round {round} (submission {submission_id})")]
    DuplicateSubmission { trainer: Addr, round: u32, submission_id: u64 },

    #[error("{validator} is not assigned to submission {submission_id}")]
    NotAssigned { validator: Addr, submission_id: u64 },

    #[error("{validator} already committed on submission {submission_id}")]
    DuplicateCommit { validator: Addr, submission_id: u64 },

    #[error("{validator} never committed on submission {submission_id}: nothing to reveal")]
    NotCommitted { validator: Addr, submission_id: u64 },

    #[error("{validator} already revealed on submission {submission_id}")]
    DuplicateReveal { validator: Addr, submission_id: u64 },

    #[error("score and salt do not hash to the commitment: expected {committed}, got {computed}")]
    CommitmentMismatch { committed: String, computed: String },

    #[error("score {score} is outside [0, {max}]")]
    ScoreOutOfRange { score: u32, max: u32 },

    #[error("{field} must be 32 bytes, got {len}")]
    BadLength { field: &'static str, len: usize },

    #[error("round {round} closes at {closes_at} (now {now}): finalize it after that")]
    RoundNotClosed { round: u32, closes_at: u64, now: u64 },

    #[error("round {round} is already finalized")]
    AlreadyFinalized { round: u32 },

    #[error("rounds finalize in order: finalize round {next} first")]
    FinalizeOutOfOrder { next: u32 },

    #[error("nothing is unbonding here to withdraw")]
    NothingToWithdraw {},

    #[error("unbonding ends at {release_at} (now {now}): withdraw after that")]
    UnbondingNotFinished { release_at: u64, now: u64 },

    #[error("nothing to claim")]
    NothingToClaim {},

    #[error("task {task_id} has finalized {finalized} of its {rounds} rounds: reclaim the pool after the last")]
    TaskNotFinished { task_id: u64, finalized: u32, rounds: u32 },

    #[error("commission {got} exceeds the market's maximum of {max}")]
    CommissionTooHigh { max: Decimal, got: Decimal },

    #[error("commission may change by at most {max} at a time, asked {got}")]
    CommissionChangeTooLarge { max: Decimal, got: Decimal },

    #[error("commission already changed in round {round}: change it again next round")]
    CommissionChangeTooSoon { round: u32 },

    #[error("{address} has no delegation to {operator} in task {task_id}")]
    UnknownDelegation { task_id: u64, address: Addr, operator: Addr },

    #[error("no bridge is configured, so nothing can be withdrawn to an EVM address yet: the admin sets one with `set_bridge`; `claim` pays on this chain meanwhile")]
    NoBridge {},

    #[error("invalid EVM recipient: {0}")]
    InvalidEvmRecipient(#[from] SettlementError),

    #[error("{address}'s stake does not count in round {round} (it counts from round {counts_from}): stake before a round's stakes freeze to take part in it")]
    StakeNotCounted { address: Addr, round: u32, counts_from: u32 },

    #[error("unbonded stake stays slashable until every round its validator was assigned in is finalized: round {round} is assigned, {finalized} finalized; finalize it, then withdraw")]
    UnbondingLocked { round: u32, finalized: u32 },

    #[error("a trainer that submitted in round {round} keeps its stake until the round's stakes freeze at {until}: unbond after that")]
    StakeHeldBySubmission { round: u32, until: u64 },

    #[error("round {round}'s beacon is accepted from {opens_at} (now {now}), once the round's stakes are frozen")]
    BeaconTooEarly { round: u32, opens_at: u64, now: u64 },

    #[error("round {round}'s sampling has started: its beacon can no longer be revealed")]
    BeaconTooLate { round: u32 },

    #[error("the value does not hash to the task's beacon chain (last known value is round {known_round}'s)")]
    BeaconMismatch { known_round: u32 },

    #[error("round {round}'s sampling waits for the creator's beacon until {deadline} (now {now}); retry then, or after the creator's `reveal_beacon`")]
    BeaconPending { round: u32, deadline: u64, now: u64 },

    #[error("{amount} is below the smallest EVM withdrawal of {min}: claim it on this chain with `claim`, or withdraw when more has accrued")]
    WithdrawalTooSmall { min: Uint128, amount: Uint128 },

    #[error("this market's task storage changed shape in {store_since}; it cannot migrate from {from} while tasks exist: finish or reclaim them and deploy a new market")]
    MigrationWithTasks { from: String, store_since: String },

    #[error("model, metadata and salt do not open submission {submission_id}'s commitment: expected {committed}, got {computed}")]
    ModelCommitmentMismatch { submission_id: u64, committed: String, computed: String },

    #[error("{trainer} has no sealed submission in round {round}: submit a commitment in the submission phase first")]
    NothingToReveal { trainer: Addr, round: u32 },

    #[error("submission {submission_id}'s model is already revealed")]
    ModelAlreadyRevealed { submission_id: u64 },

    #[error("round {round}'s evaluation key is accepted from {opens_at} (now {now}), once every model of the round is revealed")]
    KeyTooEarly { round: u32, opens_at: u64, now: u64 },

    #[error("round {round}'s evaluation key was due by {deadline} (now {now}): the round is void")]
    KeyTooLate { round: u32, deadline: u64, now: u64 },

    #[error("round {round}'s evaluation key is already revealed")]
    KeyAlreadyRevealed { round: u32 },

    #[error("the key does not hash to round {round}'s committed key_sha256 {expected}")]
    KeyMismatch { round: u32, expected: String },

    #[error(
        "round {round} is void: its evaluation key was not revealed by {deadline}, so nothing is assigned or scored"
    )]
    RoundVoid { round: u32, deadline: u64 },

    #[error("the {sent} tokens sent do not cover the creator bond of {bond} and a pool above zero")]
    BondNotCovered { bond: Uint128, sent: Uint128 },

    #[error("the creator bond {bond} must be at least the pool {pool} (send both: bond + pool): each void round forfeits bond / rounds, which must cover the emission the creator would otherwise reclaim")]
    BondBelowPool { bond: Uint128, pool: Uint128 },

    #[error(
        "cannot withdraw to the EVM zero address (tokens minted there are lost); give the recipient's EVM address"
    )]
    ZeroEvmRecipient {},
}
