//! The arena-market contract's messages and responses. Amounts are cw20 units of the market's
//! token; heights/times are in the task's [`Clock`]; scores are integers in `[0, 1_000_000]`.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Decimal, Decimal256, HexBinary, Uint128};
use cw20::Cw20ReceiveMsg;

use super::median::Standing;
use super::phase::{Clock, Phase, RoundPhase, Schedule};

#[cw_serde]
pub struct InstantiateMsg {
    /// May pause the market in an emergency and hand the role on; `None` leaves it ungoverned.
    pub admin: Option<String>,
    /// The only cw20 contract the market accepts stakes and pools in, and pays out in.
    pub token: String,
    /// Highest commission an operator may charge its delegators.
    pub max_commission: Decimal,
    /// Largest change of commission in one step; an operator may change it once per round.
    pub max_commission_change: Decimal,
    /// The arena-bridge contract `WithdrawToEvm` sends rewards to. May be left out (older
    /// deployments' JSON has no such field) and set later by the admin with `SetBridge`.
    #[serde(default)]
    pub bridge: Option<String>,
    /// Smallest balance `WithdrawToEvm` sends, so that dust cannot fill settlement batches
    /// (each leaf costs every relayer and the EVM contract work). Default
    /// [`DEFAULT_MIN_EVM_WITHDRAWAL`]; smaller balances are claimed on the Cosmos side.
    #[serde(default)]
    pub min_evm_withdrawal: Option<Uint128>,
    /// Seconds between the admin's `SetBridge` and the new bridge taking effect, so that users
    /// see the change announced (a `set_bridge` event with `effective_at`) and can claim on this
    /// chain instead. Default [`DEFAULT_BRIDGE_CHANGE_DELAY`].
    #[serde(default)]
    pub bridge_change_delay: Option<u64>,
}

/// Two days.
pub const DEFAULT_BRIDGE_CHANGE_DELAY: u64 = 2 * 24 * 3600;

/// 1 token of 6 decimals.
pub const DEFAULT_MIN_EVM_WITHDRAWAL: Uint128 = Uint128::new(1_000_000);

#[cw_serde]
pub enum ExecuteMsg {
    /// cw20 `Send` hook: the token contract forwards a [`ReceiveMsg`] with the sent amount.
    Receive(Cw20ReceiveMsg),
    /// A training node seals its model for the current round (submission phase): only the
    /// commitment [`crate::market::commitment::model_commitment`] is published, so no other
    /// trainer can see, let alone copy, the model before submissions close. One per trainer and
    /// round.
    Submit {
        task_id: u64,
        /// The 32-byte sealed commitment.
        commitment: HexBinary,
    },
    /// A training node opens its sealed commitment (model-reveal phase): the model's hash, where
    /// validators fetch it, its metadata (checked against the task's constraints) and the salt.
    /// A model hash another trainer revealed first in this task (an earlier round, or an earlier
    /// commitment of this round) is marked `Duplicate` and earns nothing. A commitment left
    /// unopened forfeits the round: no validators, no score, no reward; no stake is taken
    /// (not opening only loses the trainer its own round).
    RevealModel {
        task_id: u64,
        /// sha256 of the model file (safetensors), 32 bytes.
        model_sha256: HexBinary,
        /// Where validators fetch the model (`file://` or `http(s)://`).
        uri: String,
        metadata: ModelMetadata,
        /// The 32-byte salt of the commitment.
        salt: HexBinary,
    },
    /// Crank: samples the validators of up to `limit` unassigned submissions of the
    /// current round (default 10, at most 100). Allowed in the commit phase; anyone may call it.
    /// Submissions nobody assigned by the end of the commit phase are unscored, unslashed.
    Assign { task_id: u64, limit: Option<u32> },
    /// An assigned validator commits to its score (commit phase): see
    /// [`crate::market::commitment::score_commitment`].
    Commit {
        task_id: u64,
        submission_id: u64,
        /// The 32-byte commitment.
        commitment: HexBinary,
    },
    /// An assigned validator reveals the score, the round's baseline (what a trivial model scores
    /// on the round's evaluation shard) and the 32-byte salt it committed to (reveal phase).
    Reveal { task_id: u64, submission_id: u64, score: u32, baseline: u32, salt: HexBinary },
    /// Reveals the key of `round`'s evaluation shard (32 bytes whose sha256 the task committed to
    /// in [`EvaluationShard::key_sha256`]), from the start of the round's commit phase until
    /// [`crate::market::phase::Schedule::key_deadline`]: after every model of the round is sealed
    /// and revealed, so no trainer can train on it. Anyone holding the key may send it. A round
    /// whose key is missing at the deadline is void: nothing is scored or slashed, its emission
    /// stays in the pool, and `creator_bond / rounds` of the creator's bond goes to the round's
    /// trainers.
    RevealEvaluationKey { task_id: u64, round: u32, key: HexBinary },
    /// Reveals the creator's beacon value of `round`
    /// ([`crate::market::commitment::beacon_value`]), which seeds that round's validator sampling.
    /// Anyone holding it may send it (the chain to the task's anchor is the proof), but only once
    /// the round's stakes are frozen ([`crate::market::phase::Schedule::stake_freeze`]) and before
    /// its sampling started: a value revealed earlier would let stakers fit their stakes to it.
    RevealBeacon { task_id: u64, round: u32, value: HexBinary },
    /// Crank: finalizes up to `limit` (default 50, at most 200) items of `round`, which must be
    /// closed and the oldest unfinalized round (rounds finalize in order, as each one's emission
    /// depends on the pool the previous one left). A submission scored, a rank or a payment is
    /// one item; each slashing one more, and each validator slashed in the call two more, so
    /// that a call's gas stays bounded. Anyone may call it until the round's stage is `done`.
    Finalize { task_id: u64, round: u32, limit: Option<u32> },
    /// Starts unbonding `amount` of the sender's own stake. What remains must be 0 or at least
    /// the task's minimum stake for the sender's role.
    Unbond { task_id: u64, amount: Uint128 },
    /// Starts unbonding `amount` of the sender's delegation to `operator`.
    Undelegate { task_id: u64, operator: String, amount: Uint128 },
    /// Pays out unbonded stake whose delay has passed: the sender's own stake, or its
    /// delegation to `operator` when given.
    WithdrawUnbonded { task_id: u64, operator: Option<String> },
    /// An operator (training node or validator) sets the commission it keeps from its
    /// delegators' part of its rewards.
    SetCommission { task_id: u64, commission: Decimal },
    /// Moves the sender's accrued rewards as a delegator of `operator` into its claimable balance.
    WithdrawDelegatorRewards { task_id: u64, operator: String },
    /// Pays the sender's whole claimable balance in cw20 on this chain.
    Claim {},
    /// Pays the sender's whole claimable balance to `evm_recipient` on the EVM side: a cw20
    /// `Send` to the configured bridge with the bridge's `withdraw` hook, queued there with the
    /// market as its sender.
    WithdrawToEvm {
        /// `0x` + 40 hex digits, EIP-55 checksummed or all one case; not the zero address.
        evm_recipient: String,
    },
    /// The task's creator takes back what its pool still holds (rounding dust, stake slashed in
    /// the last round, the emission of void rounds) and what is left of its bond, once every
    /// round is finalized.
    ReclaimPool { task_id: u64 },
    /// Admin: stops (or resumes) every state change but admin ones.
    SetPaused { paused: bool },
    /// Admin: hands the admin role on, or renounces it with `None`.
    UpdateAdmin { admin: Option<String> },
    /// Admin: announces the arena-bridge contract that `WithdrawToEvm` sends to; it is used from
    /// `bridge_change_delay` seconds later on (a bridge named at instantiation is used at once).
    SetBridge { bridge: String },
}

/// What a cw20 `Send` to the market does with the tokens.
#[cw_serde]
// Parsed once per message and never stored as an enum: boxing the large variant would only make
// every client write `Box::new`.
#[allow(clippy::large_enum_variant)]
pub enum ReceiveMsg {
    /// The tokens become the creator's bond (`creator_bond` of them) and the reward pool (the
    /// rest, at most the bond) of a new task with these parameters.
    CreateTask(TaskParams),
    /// Joins a task in `role` (or adds to the stake held in that role).
    Stake { task_id: u64, role: Role },
    /// Delegates the tokens to `operator`, a training node or validator of the task.
    Delegate { task_id: u64, operator: String },
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum Role {
    Trainer,
    Validator,
}

/// Where a data set lives and the sha256 every worker checks it against.
#[cw_serde]
pub struct DataCommitment {
    pub uri: String,
    pub sha256: HexBinary,
}

/// One round's evaluation data, committed at the task's creation and readable only from that
/// round's commit phase on: the file at `uri` is the shard encrypted with ChaCha20-Poly1305 under
/// a key of the round's own, which the creator reveals on chain (`RevealEvaluationKey`).
#[cw_serde]
pub struct EvaluationShard {
    /// Where the encrypted shard lives.
    pub uri: String,
    /// sha256 of the plaintext shard: validators check what they decrypted against it.
    pub sha256: HexBinary,
    /// sha256 of the round's 32-byte key ([`crate::market::commitment::evaluation_key_hash`]).
    pub key_sha256: HexBinary,
}

/// What models a task accepts.
#[cw_serde]
pub struct ModelConstraints {
    /// Model family name, e.g. "mlp-784-128-10"; a submission must name the same.
    pub family: String,
    pub max_parameters: u64,
    pub max_file_bytes: u64,
}

/// A submitted model's description, checked against the task's [`ModelConstraints`].
#[cw_serde]
pub struct ModelMetadata {
    pub family: String,
    pub parameters: u64,
    pub file_bytes: u64,
    /// Free text for humans (hyper-parameters, notes), at most 256 bytes. Left out of the JSON
    /// when there is none (stored metadata is paid for by the byte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// How validators score: the name of the metric and how it maps onto [0, 1_000_000].
#[cw_serde]
pub struct Metric {
    pub name: String,
    pub description: String,
}

impl Metric {
    /// The language-model metric: bits per byte (bpb) of the assistant's text of the round's
    /// evaluation shard, under the base with the submitted adapter applied, mapped to
    /// `score_ppm = round(10^6 * 2^(-bpb))` (the geometric-mean probability the model gives each
    /// byte, in ppm): higher is better, as the market ranks. Validators compute it with
    /// `arena_compute::lm::score`, the one implementation (floating point, which a contract must
    /// not run: the market only ranks the integers validators reveal).
    pub fn bits_per_byte() -> Metric {
        Metric {
            name: LM_METRIC_NAME.into(),
            description: "round(1e6 * 2^-bpb), bpb = bits per byte of the assistant's text of the round's shard, \
                          base + adapter"
                .into(),
        }
    }
}

/// The name of [`Metric::bits_per_byte`].
pub const LM_METRIC_NAME: &str = "bits_per_byte_ppm";

/// The family every submission of a language-model task names: a LoRA adapter (its
/// [`ModelMetadata::parameters`] are the adapter's trainable parameters).
pub const LORA_FAMILY: &str = "lora";

/// What a task trains. Left out of a task's JSON (tasks stored before kinds existed, and old
/// clients) it is [`TaskKind::Classification`], and a classification task is written without it,
/// so its JSON (and its storage) is what it was.
#[cw_serde]
#[derive(Default)]
pub enum TaskKind {
    /// A classifier trained from scratch on the task's CSV data, scored by accuracy (ppm); the
    /// baseline is the majority class.
    #[default]
    Classification,
    /// LoRA adapters fine-tuned on a fixed base language model with the task's ShareGPT chat data,
    /// scored by [`Metric::bits_per_byte`] of the assistant's text; the baseline is the base
    /// model's own score on the round's shard.
    LanguageModel(LanguageModelTask),
}

impl TaskKind {
    pub fn is_classification(&self) -> bool {
        matches!(self, TaskKind::Classification)
    }
}

/// The fixed base and the adapter limits of a language-model task.
#[cw_serde]
pub struct LanguageModelTask {
    /// The base model's weights: the `model.safetensors` of a GPT-2-layout model in Hugging
    /// Face's layout (as `gpu-worker pretrain` writes it). Adapters name its sha256 as their
    /// `base_model_name_or_path`, as `gpu-worker finetune --base` writes them.
    pub base: DataCommitment,
    /// The base's architecture, what its `config.json` says, as Arena writes it:
    /// `gpt:layers=L,d=D,heads=H,ctx=C` (`arena_compute::lm::GptSpec`). Workers parse the
    /// weights with it; weights that do not fit it make the task unusable, as a bad shard does.
    pub architecture: String,
    /// Highest LoRA rank r a submitted adapter may have.
    pub max_lora_rank: u32,
    /// Most trainable parameters (the entries of every A and B) a submitted adapter may have.
    pub max_trainable_params: u64,
    /// The base's Hugging Face `tokenizer.json`, when its tokens are not bytes: trainers and
    /// validators tokenize with this file (its sha256 checked), so every score counts the same
    /// tokens. Left out (the JSON of tasks stored before it, and byte-level bases): byte tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<DataCommitment>,
}

/// Phase lengths and the unbonding delay, all counted in `clock` units.
#[cw_serde]
pub struct Phases {
    pub clock: Clock,
    pub submission: u64,
    /// Trainers open their sealed commitments.
    pub model_reveal: u64,
    pub commit: u64,
    pub reveal: u64,
    /// How long unbonded stake waits before it can be withdrawn; at least one round, so stake
    /// backing a round's work stays slashable until that round has closed.
    pub unbonding: u64,
}

/// Everything a task creator chooses; validated by [`crate::market::params::validate_task_params`].
#[cw_serde]
pub struct TaskParams {
    pub metric: Metric,
    /// The anchor of the creator's beacon chain, `H^rounds(secret)`
    /// ([`crate::market::commitment::beacon_value`] of round 0), 32 bytes. The creator reveals one
    /// value of the chain per round after that round's stakes freeze (`RevealBeacon`).
    pub beacon: HexBinary,
    /// Public: trainers train on it.
    pub training_data: DataCommitment,
    /// One hidden evaluation shard per round, in round order (`rounds` of them).
    pub evaluation: Vec<EvaluationShard>,
    /// Taken from the tokens sent with the task and held apart from the pool: each round whose
    /// evaluation key is not revealed in time forfeits `creator_bond / rounds` of it to that
    /// round's trainers; the rest returns with `ReclaimPool`. At least one unit per round, and
    /// at least the pool (the market refuses less): a void round's emission stays in the pool,
    /// which the creator reclaims at the end, so only a forfeit of at least the round's emission
    /// makes withholding a key unprofitable.
    pub creator_bond: Uint128,
    pub model: ModelConstraints,
    /// Classification (the default, and what a task without the field is) or a language model
    /// with its base and adapter limits.
    #[serde(default, skip_serializing_if = "TaskKind::is_classification")]
    pub kind: TaskKind,
    pub rounds: u32,
    pub phases: Phases,
    /// k: validators sampled per submission, at least 3 (so that one validator is never the
    /// whole consensus).
    pub validators_per_submission: u32,
    pub min_trainer_stake: Uint128,
    pub min_validator_stake: Uint128,
    /// Share of the assigned weight that must reveal for a submission to be scored, in [1/2, 1].
    pub quorum: Decimal,
    /// A reveal within tau of the consensus score is in consensus (e.g. 20_000 = 2 points).
    pub tau: u32,
    /// A reveal further than this from consensus is an outlier and slashed (>= tau).
    pub outlier_bound: u32,
    /// Scored submissions below this consensus score get no reward.
    pub min_score: u32,
    /// Scored submissions that do not beat the round's baseline (the consensus of the baselines
    /// the validators reveal: a majority-class guess for classification) get no reward.
    pub beat_baseline: bool,
    /// Validators' floor share of an emission, in [0, 1/2].
    pub gamma: Decimal,
    /// Rank decay of trainer rewards, in (0, 1].
    pub q: Decimal,
    /// Exponent of stake in the sampling weight: one of 1, 0.75, 0.5, 0.25. Below 1 a stake
    /// split over many identities is sampled more often than the same stake in one
    /// ([`crate::market::sampling::supported_betas`] has the arithmetic); 1 is the safe choice.
    pub beta: Decimal,
    /// Weight of delegated stake in an operator's effective stake (sampling, rewards and the
    /// reward split), in [0, 1]. Delegated stake is never slashed, so it never counts in the
    /// consensus: a reveal weighs the validator's own stake alone.
    pub epsilon: Decimal,
    /// Share of own stake lost per assigned submission not revealed, in [0, 1].
    pub liveness_slash: Decimal,
    /// Share of own stake lost per outlier reveal, in [0, 1].
    pub outlier_slash: Decimal,
}

#[cw_serde]
pub struct MigrateMsg {}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The market's configuration.
    #[returns(ConfigResponse)]
    Config {},
    /// One task: its parameters, schedule, state and current phase.
    #[returns(TaskResponse)]
    Task { task_id: u64 },
    /// The task's beacon: the last value revealed and when the next one is accepted.
    #[returns(BeaconResponse)]
    Beacon { task_id: u64 },
    /// What counted of an operator's stake in `round` (the snapshot its sampling, consensus
    /// weight and pay used), as opposed to its live stake (`Participant`).
    #[returns(StakeAtResponse)]
    StakeAt { task_id: u64, address: String, round: u32 },
    /// Tasks by id.
    #[returns(TasksResponse)]
    Tasks { start_after: Option<u64>, limit: Option<u32> },
    /// A round's state (assignment and finalization progress, emission, payouts).
    #[returns(RoundResponse)]
    Round { task_id: u64, round: u32 },
    /// One submission with its consensus, rank and reward once finalized.
    #[returns(SubmissionResponse)]
    Submission { task_id: u64, submission_id: u64 },
    /// Submissions by id, optionally only those of one round.
    #[returns(SubmissionsResponse)]
    Submissions { task_id: u64, round: Option<u32>, start_after: Option<u64>, limit: Option<u32> },
    /// The validators assigned to a submission with their commits, reveals and standing.
    #[returns(AssignmentsResponse)]
    Assignments { task_id: u64, submission_id: u64, start_after: Option<String>, limit: Option<u32> },
    /// The submissions a validator is assigned to, by submission id.
    #[returns(AssignmentsResponse)]
    ValidatorAssignments { task_id: u64, validator: String, start_after: Option<u64>, limit: Option<u32> },
    /// A round's ranking of rewarded submissions, best first.
    #[returns(RankingResponse)]
    Ranking { task_id: u64, round: u32, start_after: Option<u32>, limit: Option<u32> },
    /// One participant (training node or validator) of a task.
    #[returns(ParticipantResponse)]
    Participant { task_id: u64, address: String },
    /// A task's participants by address.
    #[returns(ParticipantsResponse)]
    Participants { task_id: u64, start_after: Option<String>, limit: Option<u32> },
    /// One delegation, with its rewards accrued up to now.
    #[returns(DelegationResponse)]
    Delegation { task_id: u64, delegator: String, operator: String },
    /// A delegator's delegations in a task, by operator.
    #[returns(DelegationsResponse)]
    Delegations { task_id: u64, delegator: String, start_after: Option<String>, limit: Option<u32> },
    /// What an account can claim now.
    #[returns(RewardsResponse)]
    Rewards { address: String },
    /// A task's slashing events, oldest first.
    #[returns(SlashEventsResponse)]
    SlashEvents { task_id: u64, start_after: Option<u64>, limit: Option<u32> },
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Option<Addr>,
    pub token: Addr,
    pub max_commission: Decimal,
    pub max_commission_change: Decimal,
    pub paused: bool,
    pub next_task_id: u64,
    /// The arena-bridge contract `WithdrawToEvm` sends to; `None` until the admin sets one.
    pub bridge: Option<Addr>,
    pub min_evm_withdrawal: Uint128,
    /// A bridge the admin announced, and the block time (seconds) from which it is used.
    pub pending_bridge: Option<(Addr, u64)>,
    pub bridge_change_delay: u64,
}

/// The money of a task. Invariant: `entered = pool + bond + in_finalization + stake + unbonding +
/// rewarded + withdrawn + reclaimed`.
#[cw_serde]
#[derive(Default)]
pub struct TaskAccounts {
    /// Everything that entered the contract for this task: the pool, stakes and delegations.
    pub entered: Uint128,
    /// Not yet emitted: future rounds' rewards, dust and slashed stake.
    pub pool: Uint128,
    /// The emission of the round being finalized, not yet paid.
    pub in_finalization: Uint128,
    /// Bonded own stake and delegations.
    pub stake: Uint128,
    /// Own stake and delegations waiting out their unbonding delay.
    pub unbonding: Uint128,
    /// Credited as rewards (to accounts, or to operators' delegator reserves).
    pub rewarded: Uint128,
    /// Unbonded stake paid back.
    pub withdrawn: Uint128,
    /// The creator's bond, held apart from the pool.
    pub bond: Uint128,
    /// What the creator took back from the pool and its bond after the last round.
    pub reclaimed: Uint128,
    /// Bond forfeited for evaluation keys not revealed in time (paid to those rounds' trainers).
    pub bond_forfeited: Uint128,
    /// Total slashed so far (already back in `pool`).
    pub slashed: Uint128,
}

#[cw_serde]
pub struct TaskResponse {
    pub id: u64,
    pub creator: Addr,
    pub params: TaskParams,
    pub schedule: Schedule,
    pub now: RoundPhase,
    pub accounts: TaskAccounts,
    /// sum of trainers' effective stakes T_i.
    pub trainer_stake: Uint128,
    /// sum of validators' effective stakes S_j.
    pub validator_stake: Uint128,
    /// Rounds fully finalized (they finalize in order).
    pub rounds_finalized: u32,
    pub trainers: u32,
    pub validators: u32,
    pub next_submission_id: u64,
    /// The round from which a stake change made now counts
    /// ([`crate::market::phase::Schedule::counting_round`]); `rounds + 1`: none.
    pub stakes_count_from: u32,
}

#[cw_serde]
pub struct BeaconResponse {
    pub task_id: u64,
    pub anchor: HexBinary,
    /// The last round whose value was revealed (0: none yet; `value` is then the anchor).
    pub revealed_round: u32,
    pub value: HexBinary,
    /// The round whose value is due next, if any round is left.
    pub next_round: Option<u32>,
    /// When the next value is accepted from (its round's stake freeze)...
    pub next_opens_at: Option<u64>,
    /// ...and until when sampling waits for it.
    pub next_deadline: Option<u64>,
}

#[cw_serde]
pub struct StakeAtResponse {
    pub task_id: u64,
    pub address: Addr,
    pub round: u32,
    pub own: Uint128,
    pub delegated: Uint128,
    /// own + floor(epsilon * delegated) if own met the role's minimum, else 0.
    pub effective: Uint128,
    pub commission: Decimal,
    /// Validators: effective^beta, the weight the round's sampling used.
    pub sampling_weight: Uint128,
}

#[cw_serde]
pub struct TasksResponse {
    pub tasks: Vec<TaskResponse>,
}

/// Where a round's finalization stands.
#[cw_serde]
pub enum FinalizeStage {
    /// Not started.
    Pending,
    /// Computing each submission's consensus, slashing, and ranking.
    Score { next_submission: u64 },
    /// Assigning ranks and weights in rank order. `after` is the last ranking key done:
    /// `(u32::MAX - consensus) << 64 | submission id`.
    Rank { after: Option<Uint128>, rank: u32 },
    /// Paying training nodes in rank order (`after` as in `Rank`).
    PayTrainers { after: Option<Uint128> },
    /// Paying validators in the order of their sampling slots (`after`: the last slot paid).
    PayValidators { after: Option<u32> },
    /// Done; dust returned to the pool.
    Done,
}

#[cw_serde]
pub struct RoundResponse {
    pub task_id: u64,
    pub round: u32,
    pub phase: Phase,
    pub first_submission: u64,
    pub submissions: u64,
    pub assigned: u64,
    /// The seed validators are sampled from, fixed at the round's first assignment.
    pub seed: Option<HexBinary>,
    pub stage: FinalizeStage,
    pub emission: Uint128,
    pub validator_budget: Uint128,
    pub trainer_budget: Uint128,
    pub trainer_weight_total: Uint128,
    pub validator_weight_total: Uint128,
    pub paid: Uint128,
    pub scored: u64,
    pub finalized: bool,
    /// The round's evaluation key once revealed.
    pub evaluation_key: Option<HexBinary>,
    /// The key was not revealed in time: nothing is scored, the bond forfeit is paid instead.
    pub void: bool,
    /// What of the creator's bond the round forfeited to its trainers.
    pub bond_forfeit: Uint128,
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum SubmissionStatus {
    /// Waiting for its model, its validators or finalization.
    Pending,
    /// Sealed and never opened in the model-reveal phase: no validators, no reward.
    Unrevealed,
    /// Another trainer revealed the same model hash first (an earlier round, or an earlier
    /// commitment of this round): no validators, no reward.
    Duplicate,
    /// Fewer than quorum revealed (or none was assigned): no reward, no penalty.
    Unscored,
    /// Consensus below the task's minimum score: no reward.
    BelowMinScore,
    /// Consensus not above the round's baseline (`beat_baseline`): no reward.
    BelowBaseline,
    /// Consensus reached; ranked and rewarded.
    Scored,
    /// The round's evaluation key was never revealed: not scored; paid its share of the bond
    /// forfeit, pro rata of the trainers' stakes.
    Void,
}

#[cw_serde]
pub struct SubmissionResponse {
    pub id: u64,
    pub task_id: u64,
    pub round: u32,
    pub trainer: Addr,
    /// The sealed commitment of the submission phase.
    pub commitment: HexBinary,
    /// The model, once revealed.
    pub model: Option<RevealedModel>,
    /// The trainer's effective stake T_i in its round as it stood at submission. Ranking reads the
    /// round's frozen stake, the same for every round but round 1, whose stakes freeze after its
    /// submissions (a trainer that submitted keeps its stake until then).
    pub stake: Uint128,
    pub assigned: bool,
    pub assigned_weight: Uint128,
    pub revealed_weight: Uint128,
    pub status: SubmissionStatus,
    pub consensus: Option<u32>,
    /// The consensus of the baselines its validators revealed.
    pub baseline: Option<u32>,
    pub rank: Option<u32>,
    pub weight: Uint128,
    pub reward: Uint128,
}

/// A submission's model, as its trainer revealed it.
#[cw_serde]
pub struct RevealedModel {
    pub sha256: HexBinary,
    pub uri: String,
    pub metadata: ModelMetadata,
}

#[cw_serde]
pub struct SubmissionsResponse {
    pub submissions: Vec<SubmissionResponse>,
}

#[cw_serde]
pub struct AssignmentResponse {
    pub submission_id: u64,
    pub validator: Addr,
    /// The validator's effective stake S_j when assigned: its weight in the median and quorum.
    pub weight: Uint128,
    pub commitment: Option<HexBinary>,
    pub score: Option<u32>,
    pub baseline: Option<u32>,
    pub standing: Option<Standing>,
    pub slashed: Uint128,
}

#[cw_serde]
pub struct AssignmentsResponse {
    pub assignments: Vec<AssignmentResponse>,
}

#[cw_serde]
pub struct RankEntry {
    pub rank: u32,
    pub submission_id: u64,
    pub trainer: Addr,
    pub consensus: u32,
}

#[cw_serde]
pub struct RankingResponse {
    pub ranking: Vec<RankEntry>,
}

#[cw_serde]
pub struct ParticipantResponse {
    pub task_id: u64,
    pub address: Addr,
    pub role: Role,
    pub own: Uint128,
    pub delegated: Uint128,
    /// Own stake + epsilon * delegated.
    pub effective: Uint128,
    pub unbonding: Uint128,
    pub unbonding_release: u64,
    pub commission: Decimal,
    /// Validators only: their slot in the sampling tree and their sampling weight S^beta.
    pub slot: Option<u32>,
    pub sampling_weight: Uint128,
    /// Cumulative delegator rewards per delegated token.
    pub reward_index: Decimal256,
    /// Credited to its delegators and not yet withdrawn by them (with at most one unit per
    /// delegator per payment of rounding that stays here).
    pub delegator_reserve: Uint128,
    pub slashed: Uint128,
}

#[cw_serde]
pub struct ParticipantsResponse {
    pub participants: Vec<ParticipantResponse>,
}

#[cw_serde]
pub struct DelegationResponse {
    pub task_id: u64,
    pub delegator: Addr,
    pub operator: Addr,
    pub amount: Uint128,
    /// Rewards accrued and not yet moved to the claimable balance.
    pub pending_rewards: Uint128,
    pub unbonding: Uint128,
    pub unbonding_release: u64,
}

#[cw_serde]
pub struct DelegationsResponse {
    pub delegations: Vec<DelegationResponse>,
}

#[cw_serde]
pub struct RewardsResponse {
    pub address: Addr,
    pub claimable: Uint128,
}

#[cw_serde]
#[derive(Copy, Eq)]
pub enum SlashReason {
    /// Assigned and did not reveal (with or without a commit).
    Liveness,
    /// Revealed further than the outlier bound from consensus.
    Outlier,
}

#[cw_serde]
pub struct SlashEvent {
    pub id: u64,
    pub round: u32,
    pub submission_id: u64,
    pub validator: Addr,
    pub reason: SlashReason,
    pub amount: Uint128,
}

#[cw_serde]
pub struct SlashEventsResponse {
    pub events: Vec<SlashEvent>,
}

#[cfg(test)]
mod tests {
    //! Pins the JSON the chain client and the gpu-worker send, so a change of shape fails here.

    use super::*;
    use crate::market::phase::Clock;
    use cosmwasm_std::to_json_string;

    #[test]
    fn execute_messages_have_the_documented_json() {
        let salt = HexBinary::from([0xabu8; 32]);
        let cases: Vec<(ExecuteMsg, &str)> = vec![
            (
                ExecuteMsg::Submit { task_id: 1, commitment: HexBinary::from([0x22u8; 32]) },
                r#"{"submit":{"task_id":1,"commitment":"2222222222222222222222222222222222222222222222222222222222222222"}}"#,
            ),
            (
                ExecuteMsg::RevealModel {
                    task_id: 1,
                    model_sha256: HexBinary::from([0x11u8; 32]),
                    uri: "file://models/a.safetensors".into(),
                    metadata: ModelMetadata {
                        family: "mlp".into(),
                        parameters: 101_770,
                        file_bytes: 407_080,
                        notes: None,
                    },
                    salt: salt.clone(),
                },
                r#"{"reveal_model":{"task_id":1,"model_sha256":"1111111111111111111111111111111111111111111111111111111111111111","uri":"file://models/a.safetensors","metadata":{"family":"mlp","parameters":101770,"file_bytes":407080},"salt":"abababababababababababababababababababababababababababababababab"}}"#,
            ),
            (
                ExecuteMsg::RevealEvaluationKey { task_id: 1, round: 2, key: HexBinary::from([0x01u8; 32]) },
                r#"{"reveal_evaluation_key":{"task_id":1,"round":2,"key":"0101010101010101010101010101010101010101010101010101010101010101"}}"#,
            ),
            (ExecuteMsg::Assign { task_id: 1, limit: Some(10) }, r#"{"assign":{"task_id":1,"limit":10}}"#),
            (
                ExecuteMsg::Commit { task_id: 1, submission_id: 2, commitment: salt.clone() },
                r#"{"commit":{"task_id":1,"submission_id":2,"commitment":"abababababababababababababababababababababababababababababababab"}}"#,
            ),
            (
                ExecuteMsg::Reveal { task_id: 1, submission_id: 2, score: 912_345, baseline: 100_000, salt },
                r#"{"reveal":{"task_id":1,"submission_id":2,"score":912345,"baseline":100000,"salt":"abababababababababababababababababababababababababababababababab"}}"#,
            ),
            (
                ExecuteMsg::Finalize { task_id: 1, round: 1, limit: Some(50) },
                r#"{"finalize":{"task_id":1,"round":1,"limit":50}}"#,
            ),
            (
                ExecuteMsg::RevealBeacon { task_id: 1, round: 2, value: HexBinary::from([0xcdu8; 32]) },
                r#"{"reveal_beacon":{"task_id":1,"round":2,"value":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"}}"#,
            ),
            (ExecuteMsg::Claim {}, r#"{"claim":{}}"#),
            (
                ExecuteMsg::WithdrawToEvm { evm_recipient: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".into() },
                r#"{"withdraw_to_evm":{"evm_recipient":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}}"#,
            ),
            (ExecuteMsg::SetBridge { bridge: "arena1bridge".into() }, r#"{"set_bridge":{"bridge":"arena1bridge"}}"#),
            (
                ExecuteMsg::Unbond { task_id: 1, amount: Uint128::new(500) },
                r#"{"unbond":{"task_id":1,"amount":"500"}}"#,
            ),
        ];
        for (msg, json) in cases {
            assert_eq!(to_json_string(&msg).unwrap(), json);
        }
    }

    #[test]
    fn instantiate_json_without_a_bridge_still_parses() {
        // The JSON deployments sent before the bridge existed.
        let old = r#"{"admin":null,"token":"arena1token","max_commission":"0.5","max_commission_change":"0.05"}"#;
        let msg: InstantiateMsg = cosmwasm_std::from_json(old).unwrap();
        assert_eq!(msg.bridge, None);
        assert_eq!(msg.token, "arena1token");
        let with = r#"{"admin":null,"token":"arena1token","max_commission":"0.5","max_commission_change":"0.05","bridge":"arena1bridge"}"#;
        let msg: InstantiateMsg = cosmwasm_std::from_json(with).unwrap();
        assert_eq!(msg.bridge.as_deref(), Some("arena1bridge"));
        assert_eq!(msg.min_evm_withdrawal, None);
    }

    #[test]
    fn the_api_schema_renders_with_every_response() {
        let api = cosmwasm_schema::generate_api! {
            name: "arena-market",
            instantiate: InstantiateMsg,
            execute: ExecuteMsg,
            query: QueryMsg,
            migrate: MigrateMsg,
        }
        .render();
        let json = api.to_string().unwrap();
        for response in ["TaskResponse", "RoundResponse", "AssignmentsResponse", "SlashEventsResponse"] {
            assert!(json.contains(response), "{response} missing from the schema");
        }
        // The cw20 hook's own messages are part of the API too.
        let receive = cosmwasm_schema::schema_for!(ReceiveMsg);
        assert!(serde_json::to_string(&receive).unwrap().contains("create_task"));
    }

    #[test]
    fn receive_hooks_have_the_documented_json() {
        assert_eq!(
            to_json_string(&ReceiveMsg::Stake { task_id: 1, role: Role::Validator }).unwrap(),
            r#"{"stake":{"task_id":1,"role":"validator"}}"#
        );
        assert_eq!(
            to_json_string(&ReceiveMsg::Delegate { task_id: 1, operator: "arena1op".into() }).unwrap(),
            r#"{"delegate":{"task_id":1,"operator":"arena1op"}}"#
        );
        let phases =
            Phases { clock: Clock::Height, submission: 20, model_reveal: 5, commit: 10, reveal: 10, unbonding: 45 };
        assert_eq!(
            to_json_string(&phases).unwrap(),
            r#"{"clock":"height","submission":20,"model_reveal":5,"commit":10,"reveal":10,"unbonding":45}"#
        );
        let create = to_json_string(&ReceiveMsg::CreateTask(crate::market::params::tests::demo_params())).unwrap();
        assert!(create.starts_with(r#"{"create_task":{"metric":{"name":"accuracy_ppm","#), "{create}");
        assert!(create.contains(r#""quorum":"0.5","tau":20000,"outlier_bound":100000,"min_score":0,"beat_baseline":true,"gamma":"0.1","q":"0.8","beta":"0.5","epsilon":"0.5","liveness_slash":"0.05","outlier_slash":"0.1"}}"#), "{create}");
    }
}
