//! Every item the market stores, and the few helpers that must run on each change of a stake so
//! that totals, snapshots and the sampling tree never drift from the participants they summarize.
//!
//! Stakes are snapshotted by round. A change made at `now` counts from the round
//! `Schedule::counting_round(now)` on (the first round whose stakes are not yet frozen), so every
//! change writes the participant's new stake into [`STAKE_HISTORY`] and the task's sums into
//! [`TOTALS_HISTORY`] under that round, and the sampling tree keeps, per node, its value for that
//! round and for the rounds before ([`TreeNode`]). What a round reads (its sampling, its
//! consensus weights, its emission split, its pay) is the latest entry at or before it, which no
//! transaction after the round's freeze can change.

use arena_types::market::msg::{
    EvaluationShard, FinalizeStage, ModelConstraints, ModelMetadata, RevealedModel, Role, SlashEvent, SubmissionStatus,
    TaskAccounts, TaskParams, DEFAULT_BRIDGE_CHANGE_DELAY, DEFAULT_MIN_EVM_WITHDRAWAL,
};
use arena_types::market::phase::{Clock, Schedule};
use arena_types::market::rewards::effective_stake;
use arena_types::market::sampling::{fenwick_double, fenwick_find, fenwick_update, stake_power};
use cosmwasm_schema::cw_serde;
use std::cell::RefCell;

use cosmwasm_std::{Addr, Binary, Decimal, Decimal256, Env, HexBinary, Order, StdError, StdResult, Storage, Uint128};
use cw_storage_plus::{Bound, Item, Map};

use crate::error::ContractError;

/// The most validators a task can hold. Its sampling tree grows with the validators (see
/// [`TaskState::sampling_capacity`]), so at this size a lookup reads 13 nodes and a stake change
/// writes at most 13; with 18 validators, 6 and 6.
pub const MAX_VALIDATOR_SLOTS: u32 = 4096;

#[cw_serde]
pub struct Config {
    pub admin: Option<Addr>,
    pub token: Addr,
    pub max_commission: Decimal,
    pub max_commission_change: Decimal,
    /// Stored configs of 0.1 held the pause here; it lives in [`PAUSED`] since, which every
    /// execute reads without loading the whole config. Read only by `migrate`.
    #[serde(default, skip_serializing)]
    pub paused: bool,
    /// The arena-bridge contract `WithdrawToEvm` sends to. Stored configs from before it existed
    /// have no such field and read as `None`.
    #[serde(default)]
    pub bridge: Option<Addr>,
    /// Smallest balance `WithdrawToEvm` sends.
    #[serde(default = "default_min_evm_withdrawal")]
    pub min_evm_withdrawal: Uint128,
    /// A bridge announced by `SetBridge`, used from the block time (seconds) given on.
    #[serde(default)]
    pub pending_bridge: Option<(Addr, u64)>,
    #[serde(default = "default_bridge_change_delay")]
    pub bridge_change_delay: u64,
}

fn default_bridge_change_delay() -> u64 {
    DEFAULT_BRIDGE_CHANGE_DELAY
}

impl Config {
    /// The bridge `WithdrawToEvm` sends to at `time` (seconds): an announced one once its delay
    /// has passed.
    pub fn bridge_at(&self, time: u64) -> Option<&Addr> {
        match &self.pending_bridge {
            Some((bridge, from)) if time >= *from => Some(bridge),
            _ => self.bridge.as_ref(),
        }
    }
}

fn default_min_evm_withdrawal() -> Uint128 {
    DEFAULT_MIN_EVM_WITHDRAWAL
}

/// What never changes after creation. The evaluation shards are stored apart, one per round
/// ([`EVALUATION_SHARDS`]), so that loading a task does not read a thousand of them:
/// `params.evaluation` is empty here.
#[cw_serde]
pub struct Task {
    pub id: u64,
    pub creator: Addr,
    pub params: TaskParams,
    pub schedule: Schedule,
}

/// What changes as the task runs.
#[cw_serde]
pub struct TaskState {
    pub accounts: TaskAccounts,
    /// sum of active trainers' effective stakes T_i.
    pub trainer_stake: Uint128,
    /// sum of active validators' effective stakes S_j.
    pub validator_stake: Uint128,
    /// sum of validators' sampling weights S_j^beta (the sampling tree's total).
    pub sampling_total: Uint128,
    pub validator_slots: u32,
    /// The sampling tree's capacity: the smallest power of two >= `validator_slots` (at least 1).
    /// Tasks stored before the tree could grow have none and were built at the largest size.
    #[serde(default = "full_sampling_capacity")]
    pub sampling_capacity: u32,
    pub trainers: u32,
    pub rounds_finalized: u32,
    pub next_slash_id: u64,
}

fn full_sampling_capacity() -> u32 {
    MAX_VALIDATOR_SLOTS
}

/// The randomness of a task: the seed of round `seed_round` (0: the initial seed, before any
/// round was sampled). The salts revealed since are folded into [`SALT_MIX`]
/// ([`arena_types::market::commitment::mix_salt`]).
#[cw_serde]
pub struct Seeds {
    pub seed_round: u32,
    pub seed: HexBinary,
}

/// The last value of the creator's beacon chain the task knows: the anchor (round 0) until the
/// creator reveals round 1's.
#[cw_serde]
pub struct Beacon {
    pub round: u32,
    pub value: HexBinary,
}

/// What counts of an operator's stake from some round on (see the module doc).
#[cw_serde]
#[derive(Default)]
pub struct StakeSnapshot {
    pub own: Uint128,
    pub delegated: Uint128,
    pub commission: Decimal,
}

/// The task's stake sums and its sampling tree's shape from some round on.
#[cw_serde]
#[derive(Default)]
pub struct StakeTotals {
    pub trainer_stake: Uint128,
    pub validator_stake: Uint128,
    pub sampling_total: Uint128,
    pub validator_slots: u32,
    pub sampling_capacity: u32,
}

/// A node of the sampling tree: `value` counts from round `epoch` on, `before` in the rounds
/// before it. Two versions are enough: a round is sampled only during its commit phase, when
/// changes count from the next round, so no node is ever written for two rounds ahead of one
/// still being sampled.
#[cw_serde]
#[derive(Default)]
pub struct TreeNode {
    pub epoch: u32,
    pub value: Uint128,
    pub before: Uint128,
}

impl TreeNode {
    pub fn at(&self, round: u32) -> Uint128 {
        if round >= self.epoch {
            self.value
        } else {
            self.before
        }
    }
}

/// A training node or validator of a task; also an operator others may delegate to.
#[cw_serde]
pub struct Participant {
    pub role: Role,
    pub own: Uint128,
    pub delegated: Uint128,
    pub unbonding: Uint128,
    pub release_at: u64,
    pub commission: Decimal,
    /// The round of the last commission change (0: never changed).
    pub commission_round: u32,
    /// Validators: their slot in the sampling tree; `None` once given back (nothing staked or
    /// delegated and every assigned round finalized), and taken again on the next stake.
    pub slot: Option<u32>,
    pub sampling_weight: Uint128,
    /// Delegator rewards per delegated token, cumulative.
    pub reward_index: Decimal256,
    /// Credited to delegators and not yet withdrawn by them.
    pub delegator_reserve: Uint128,
    pub slashed: Uint128,
    /// Delegation records held by delegators (a record goes when it holds nothing and every
    /// round it counted in is paid); when the last one goes, the rounding dust left in
    /// `delegator_reserve` returns to the pool.
    pub delegations: u32,
}

#[cw_serde]
pub struct Delegation {
    /// The live amount; what counted in a round is in [`DELEGATION_HISTORY`].
    pub amount: Uint128,
    /// Rewards are settled through this round (all finalized rounds up to it)...
    pub settled_round: u32,
    /// ...and this is the operator's cumulative reward index after it ([`INDEX_HISTORY`]).
    pub reward_index: Decimal256,
    pub pending: Uint128,
    pub unbonding: Uint128,
    pub release_at: u64,
}

#[cw_serde]
pub struct RoundState {
    pub first_submission: u64,
    pub submissions: u64,
    pub assigned: u64,
    pub seed: Option<HexBinary>,
    pub stage: FinalizeStage,
    pub emission: Uint128,
    pub validator_budget: Uint128,
    pub trainer_budget: Uint128,
    pub trainer_weight_total: Uint128,
    pub validator_weight_total: Uint128,
    pub paid: Uint128,
    pub scored: u64,
    /// The evaluation key was not revealed in time (set when finalization starts).
    pub void: bool,
    /// What of the creator's bond the round forfeited to its trainers.
    pub bond_forfeit: Uint128,
}

/// What a training node submitted: its sealed commitment. The model it opens it to is stored
/// apart ([`MODELS`]), so that a reveal writes only that.
#[cw_serde]
pub struct Submission {
    pub round: u32,
    pub trainer: Addr,
    pub commitment: HexBinary,
    /// The trainer's effective stake T_i in its round as it stood at submission. Ranking reads the
    /// round's frozen stake, the same for every round but round 1, whose stakes freeze after its
    /// submissions (a trainer that submitted keeps its stake until then).
    pub stake: Uint128,
}

/// A revealed model as stored: (sha256, URI, family, parameters, file bytes, notes). A tuple (a
/// JSON array, no field names) with the digest in base64, because a model reveal pays 30 gas for
/// each byte it writes: this is ~80 bytes shorter than the [`RevealedModel`] the queries answer
/// with, and keeps the reveal under 150k gas.
pub type StoredModel = (Binary, String, String, u64, u64, Option<String>);

pub fn stored_model(sha256: &[u8; 32], uri: String, m: ModelMetadata) -> StoredModel {
    (Binary::from(sha256.as_slice()), uri, m.family, m.parameters, m.file_bytes, m.notes)
}

pub fn revealed_model((sha256, uri, family, parameters, file_bytes, notes): StoredModel) -> RevealedModel {
    let metadata = ModelMetadata { family, parameters, file_bytes, notes };
    RevealedModel { sha256: HexBinary::from(sha256.as_slice()), uri, metadata }
}

/// What assignment and finalization find out about a submission, stored apart from it so that
/// the finalization writes only these few bytes.
#[cw_serde]
pub struct SubmissionResult {
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

impl SubmissionResult {
    pub fn pending() -> Self {
        SubmissionResult {
            assigned: false,
            assigned_weight: Uint128::zero(),
            revealed_weight: Uint128::zero(),
            status: SubmissionStatus::Pending,
            consensus: None,
            baseline: None,
            rank: None,
            weight: Uint128::zero(),
            reward: Uint128::zero(),
        }
    }
}

#[cw_serde]
pub struct Assignment {
    /// The submission's round, kept here so commit and reveal need not load the submission.
    pub round: u32,
    /// The validator's sampling slot: keys its reward weight compactly.
    pub slot: u32,
    pub weight: Uint128,
    // Empty fields are left out of the stored JSON: each byte a reveal writes costs gas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<HexBinary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    /// The round's baseline as this validator measured it, revealed with the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<u32>,
    /// Slashed for this assignment (liveness or outlier). Its standing is not stored: it follows
    /// from the score and the submission's consensus ([`arena_types::market::median::classify`]).
    #[serde(default, skip_serializing_if = "Uint128::is_zero")]
    pub slashed: Uint128,
}

pub const CONFIG: Item<Config> = Item::new("config_v1");
/// Whether the admin paused the market: apart from the config because every execute reads it.
pub const PAUSED: Item<bool> = Item::new("paused_v1");
pub const NEXT_TASK_ID: Item<u64> = Item::new("next_task_id_v1");
pub const TASKS: Map<u64, Task> = Map::new("tasks_v1");
/// task -> its schedule, a copy of `Task::schedule` small enough for commit and reveal to read
/// without the task's parameters.
pub const SCHEDULES: Map<u64, Schedule> = Map::new("schedules_v1");
pub const TASK_STATE: Map<u64, TaskState> = Map::new("task_state_v1");
pub const SEEDS: Map<u64, Seeds> = Map::new("seeds_v1");
pub const BEACONS: Map<u64, Beacon> = Map::new("beacons_v1");
/// task -> the 32-byte mix of the salts revealed since the last seed. Apart from [`SEEDS`] so a
/// reveal writes only these bytes.
pub const SALT_MIX: Map<u64, Binary> = Map::new("salt_mix_v1");
/// task -> the id its next submission gets (ids run on across rounds). Apart from the task state
/// so a submission writes only this number.
pub const NEXT_SUBMISSION_IDS: Map<u64, u64> = Map::new("next_submission_id_v1");
/// (task, address) -> participant.
pub const PARTICIPANTS: Map<(u64, &Addr), Participant> = Map::new("participants_v1");
/// (task, slot) -> validator.
pub const VALIDATOR_SLOTS: Map<(u64, u32), Addr> = Map::new("validator_slots_v1");
/// (task, Fenwick node) -> partial sums of sampling weights, versioned by round.
pub const SAMPLING_TREE: Map<(u64, u32), TreeNode> = Map::new("sampling_tree_v2");
/// Slots given back by validators that left, taken first by the next validator to join.
pub const FREE_SLOTS: Map<(u64, u32), ()> = Map::new("free_validator_slots_v1");
/// (task, operator, round from which it counts) -> its stake.
pub const STAKE_HISTORY: Map<(u64, &Addr, u32), StakeSnapshot> = Map::new("stake_history_v1");
/// (task, round from which they count) -> the task's stake sums.
pub const TOTALS_HISTORY: Map<(u64, u32), StakeTotals> = Map::new("stake_totals_v1");
/// (task, delegator, operator, round from which it counts) -> the delegated amount.
pub const DELEGATION_HISTORY: Map<((u64, &Addr), &Addr, u32), Uint128> = Map::new("delegation_history_v1");
/// (task, operator, round) -> the operator's cumulative reward index after that round paid it.
pub const INDEX_HISTORY: Map<(u64, &Addr, u32), Decimal256> = Map::new("reward_index_history_v1");
/// (task, validator) -> the last round it was assigned in: its unbonded stake stays until that
/// round is finalized, so a slashing it earned there can still take it.
pub const LAST_ASSIGNED: Map<(u64, &Addr), u32> = Map::new("last_assigned_round_v1");
/// (task, delegator, operator) -> delegation.
pub const DELEGATIONS: Map<(u64, &Addr, &Addr), Delegation> = Map::new("delegations_v1");
/// (task, round) -> round state.
pub const ROUNDS: Map<(u64, u32), RoundState> = Map::new("rounds_v1");
/// (task, submission id) -> submission.
pub const SUBMISSIONS: Map<(u64, u64), Submission> = Map::new("submissions_v1");
/// (task, submission id) -> what assignment and finalization found.
pub const RESULTS: Map<(u64, u64), SubmissionResult> = Map::new("submission_results_v1");
/// (task, round, trainer) -> its submission id and sealed commitment: one submission per trainer
/// per round. The commitment is here too (it is also in the submission) so that a model reveal,
/// which looks the trainer up, checks it without loading the submission.
pub const TRAINER_SUBMISSIONS: Map<(u64, u32, &Addr), (u64, HexBinary)> = Map::new("trainer_submissions_v2");
/// (task, submission id) -> the model its trainer revealed. A submission without one is
/// unrevealed (its result says `Unrevealed` once assignment or finalization looked).
pub const MODELS: Map<(u64, u64), StoredModel> = Map::new("models_v1");
/// (task, model sha256) -> the submission that owns the model: the first to reveal it in the
/// task, or, within a round, the earliest commitment. Any other trainer's submission of the same
/// hash is a duplicate.
pub const MODEL_OWNERS: Map<(u64, &[u8]), u64> = Map::new("model_owners_v1");
/// task -> its model constraints, a copy of `Task::params.model` small enough for a model reveal
/// to read without the task's parameters.
pub const MODEL_CONSTRAINTS: Map<u64, ModelConstraints> = Map::new("model_constraints_v1");
/// (task, round) -> the round's evaluation shard, as committed at creation.
pub const EVALUATION_SHARDS: Map<(u64, u32), EvaluationShard> = Map::new("evaluation_shards_v1");
/// (task, round) -> the round's evaluation key, once revealed.
pub const EVALUATION_KEYS: Map<(u64, u32), HexBinary> = Map::new("evaluation_keys_v1");
/// (task, submission id, validator) -> assignment with its commit and reveal.
pub const ASSIGNMENTS: Map<(u64, u64, &Addr), Assignment> = Map::new("assignments_v1");
/// (task, validator, submission id): the index behind a validator's assignment list.
pub const VALIDATOR_ASSIGNMENTS: Map<(u64, &Addr, u64), ()> = Map::new("validator_assignments_v1");
/// (task, round, [`ranking_key`]): iterating it gives the ranking, best first, ties to the
/// earlier submission.
pub const RANKING: Map<(u64, u32, u128), ()> = Map::new("ranking_v1");
/// (task, round, rank) -> submission id, written by finalization's rank stage, so the ranking
/// query pages by rank without walking the ranks before its page.
pub const RANKED: Map<(u64, u32, u32), u64> = Map::new("ranked_v1");
/// (task, round, validator slot) -> its reward weight (sum of S_j over in-consensus reveals).
pub const VALIDATOR_WEIGHTS: Map<(u64, u32, u32), Uint128> = Map::new("validator_weights_v1");
/// address -> claimable rewards (all tasks pay in the same cw20).
pub const REWARDS: Map<&Addr, Uint128> = Map::new("rewards_v1");
/// (task, event id) -> slashing event.
pub const SLASH_EVENTS: Map<(u64, u64), SlashEvent> = Map::new("slash_events_v1");

pub fn load_task(storage: &dyn Storage, task_id: u64) -> Result<Task, ContractError> {
    TASKS.may_load(storage, task_id)?.ok_or(ContractError::UnknownTask { task_id })
}

pub fn load_schedule(storage: &dyn Storage, task_id: u64) -> Result<Schedule, ContractError> {
    SCHEDULES.may_load(storage, task_id)?.ok_or(ContractError::UnknownTask { task_id })
}

pub fn load_participant(storage: &dyn Storage, task_id: u64, address: &Addr) -> Result<Participant, ContractError> {
    PARTICIPANTS
        .may_load(storage, (task_id, address))?
        .ok_or_else(|| ContractError::UnknownParticipant { task_id, address: address.clone() })
}

/// Refuses a round the task does not have.
pub fn assert_round_exists(task: &Task, round: u32) -> Result<(), ContractError> {
    if round == 0 || round > task.params.rounds {
        return Err(ContractError::UnknownRound { task_id: task.id, round, rounds: task.params.rounds });
    }
    Ok(())
}

/// The current height or time, in the task's clock.
pub fn now(clock: Clock, env: &Env) -> u64 {
    match clock {
        Clock::Height => env.block.height,
        Clock::Time => env.block.time.seconds(),
    }
}

/// The minimum own stake of a role.
pub fn min_stake(params: &TaskParams, role: Role) -> Uint128 {
    match role {
        Role::Trainer => params.min_trainer_stake,
        Role::Validator => params.min_validator_stake,
    }
}

/// An operator counts (in stake sums, sampling and submissions) only while its own bonded stake
/// is at least its role's minimum; then its effective stake is own + floor(epsilon * delegated).
pub fn effective(params: &TaskParams, p: &Participant) -> Uint128 {
    effective_of(params, p.role, p.own, p.delegated)
}

pub fn effective_of(params: &TaskParams, role: Role, own: Uint128, delegated: Uint128) -> Uint128 {
    if own < min_stake(params, role) {
        return Uint128::zero();
    }
    effective_stake(own, delegated, params.epsilon)
}

/// The round from which a change made now counts.
pub fn counting_round(task: &Task, env: &Env) -> u32 {
    task.schedule.counting_round(now(task.schedule.clock, env))
}

/// What counted of `address`'s stake in `round`: its latest snapshot at or before it (zero if
/// it had none yet).
pub fn stake_at(storage: &dyn Storage, task_id: u64, address: &Addr, round: u32) -> StdResult<StakeSnapshot> {
    Ok(latest_at(STAKE_HISTORY.prefix((task_id, address)), storage, round)?.unwrap_or_default())
}

/// The task's stake sums as they counted in `round`.
pub fn totals_at(storage: &dyn Storage, task_id: u64, round: u32) -> StdResult<StakeTotals> {
    Ok(latest_at(TOTALS_HISTORY.prefix(task_id), storage, round)?.unwrap_or_default())
}

/// What a delegation counted in `round`.
pub fn delegation_at(
    storage: &dyn Storage,
    task_id: u64,
    delegator: &Addr,
    operator: &Addr,
    round: u32,
) -> StdResult<Uint128> {
    Ok(latest_at(DELEGATION_HISTORY.prefix(((task_id, delegator), operator)), storage, round)?.unwrap_or_default())
}

/// An operator's cumulative reward index after `round` (the latest payment at or before it).
pub fn index_at(storage: &dyn Storage, task_id: u64, operator: &Addr, round: u32) -> StdResult<Decimal256> {
    Ok(latest_at(INDEX_HISTORY.prefix((task_id, operator)), storage, round)?.unwrap_or_default())
}

/// The value of the latest key at or before `round` in a round-keyed history.
fn latest_at<T: cosmwasm_schema::serde::de::DeserializeOwned + cosmwasm_schema::serde::Serialize>(
    history: cw_storage_plus::Prefix<u32, T, u32>,
    storage: &dyn Storage,
    round: u32,
) -> StdResult<Option<T>> {
    history
        .range(storage, None, Some(Bound::inclusive(round)), Order::Descending)
        .next()
        .transpose()
        .map(|entry| entry.map(|(_, v)| v))
}

/// Saves a participant after any change of its stakes or commission, keeping the task's stake
/// sums, the snapshots and the validator sampling tree in step. `before` is the stored value
/// (None for a new participant); `epoch` the round from which the change counts.
pub fn save_participant(
    storage: &mut dyn Storage,
    task: &Task,
    state: &mut TaskState,
    epoch: u32,
    address: &Addr,
    before: Option<&Participant>,
    after: &mut Participant,
) -> Result<(), ContractError> {
    let old = before.map(|b| effective(&task.params, b)).unwrap_or_default();
    let new = effective(&task.params, after);
    match after.role {
        Role::Trainer => {
            state.trainer_stake = state.trainer_stake.checked_sub(old)?.checked_add(new)?;
        }
        Role::Validator => {
            state.validator_stake = state.validator_stake.checked_sub(old)?.checked_add(new)?;
            let weight = stake_power(new, task.params.beta).unwrap_or_default();
            let previous = after.sampling_weight;
            if weight != previous {
                let slot = after.slot.expect("a validator with weight holds a slot");
                let (delta, subtract) =
                    if weight > previous { (weight - previous, false) } else { (previous - weight, true) };
                // Both node accessors need the storage; a RefCell lends it to one at a time.
                let cell = RefCell::new(&mut *storage);
                fenwick_update(
                    state.sampling_capacity,
                    slot,
                    delta.u128(),
                    subtract,
                    |i| Ok::<_, StdError>(sampling_node(&**cell.borrow(), task.id, i)?.value.u128()),
                    |i, v| write_node(&mut **cell.borrow_mut(), task.id, epoch, i, v),
                )?;
                state.sampling_total = if subtract {
                    state.sampling_total.checked_sub(delta)?
                } else {
                    state.sampling_total.checked_add(delta)?
                };
                after.sampling_weight = weight;
            }
        }
    }
    PARTICIPANTS.save(storage, (task.id, address), after)?;
    let snapshot = StakeSnapshot { own: after.own, delegated: after.delegated, commission: after.commission };
    STAKE_HISTORY.save(storage, (task.id, address, epoch), &snapshot)?;
    save_totals(storage, task.id, state, epoch)?;
    Ok(())
}

/// Records the task's sums as they count from `epoch`.
fn save_totals(storage: &mut dyn Storage, task_id: u64, state: &TaskState, epoch: u32) -> StdResult<()> {
    let totals = StakeTotals {
        trainer_stake: state.trainer_stake,
        validator_stake: state.validator_stake,
        sampling_total: state.sampling_total,
        validator_slots: state.validator_slots,
        sampling_capacity: state.sampling_capacity,
    };
    TOTALS_HISTORY.save(storage, (task_id, epoch), &totals)
}

/// The validator slot under a point of round `round`'s sampling weight line.
pub fn find_slot(storage: &dyn Storage, task_id: u64, capacity: u32, round: u32, point: u128) -> StdResult<u32> {
    fenwick_find(capacity, point, |i| Ok(sampling_node(storage, task_id, i)?.at(round).u128()))
}

fn sampling_node(storage: &dyn Storage, task_id: u64, node: u32) -> StdResult<TreeNode> {
    Ok(SAMPLING_TREE.may_load(storage, (task_id, node))?.unwrap_or_default())
}

/// Writes a node's value counting from `epoch`, keeping its value for the rounds before.
fn write_node(storage: &mut dyn Storage, task_id: u64, epoch: u32, node: u32, value: u128) -> StdResult<()> {
    let mut n = sampling_node(storage, task_id, node)?;
    if n.epoch != epoch {
        n.before = n.value;
        n.epoch = epoch;
    }
    n.value = Uint128::new(value);
    SAMPLING_TREE.save(storage, (task_id, node), &n)
}

/// Gives a joining validator a slot: one given back by a validator that left, else the next
/// new one, doubling the sampling tree when it outgrows it. The slot's weight is set by
/// [`save_participant`].
pub fn add_validator_slot(
    storage: &mut dyn Storage,
    task_id: u64,
    state: &mut TaskState,
    epoch: u32,
    validator: &Addr,
) -> Result<u32, ContractError> {
    let free = FREE_SLOTS.prefix(task_id).keys(storage, None, None, Order::Ascending).next().transpose()?;
    if let Some(slot) = free {
        FREE_SLOTS.remove(storage, (task_id, slot));
        VALIDATOR_SLOTS.save(storage, (task_id, slot), validator)?;
        return Ok(slot);
    }
    if state.validator_slots >= MAX_VALIDATOR_SLOTS {
        return Err(ContractError::ValidatorSetFull { task_id, max: MAX_VALIDATOR_SLOTS });
    }
    state.validator_slots += 1;
    VALIDATOR_SLOTS.save(storage, (task_id, state.validator_slots), validator)?;
    if state.validator_slots > state.sampling_capacity {
        let top = sampling_node(storage, task_id, state.sampling_capacity)?.value;
        state.sampling_capacity = fenwick_double(
            state.sampling_capacity,
            |_| Ok::<_, StdError>(top.u128()),
            |i, v| write_node(storage, task_id, epoch, i, v),
        )?;
    }
    Ok(state.validator_slots)
}

/// Gives a validator's slot back for the next validator to join, once nothing can read it any
/// more: nothing staked, delegated or unbonding, its zero weight already in force for the round
/// being sampled (so that round's sampling never lands on the slot), and every round it was
/// assigned in finalized (so no payment or slashing looks the slot up again). Returns whether
/// it did. Without this, sybils at the minimum stake could fill every slot, leave with their
/// capital, and lock every later validator out of the task.
pub fn release_slot_if_idle(
    storage: &mut dyn Storage,
    task: &Task,
    state: &TaskState,
    env: &Env,
    address: &Addr,
    p: &mut Participant,
) -> StdResult<bool> {
    let Some(slot) = p.slot else { return Ok(false) };
    if !(p.own.is_zero() && p.delegated.is_zero() && p.unbonding.is_zero() && p.sampling_weight.is_zero()) {
        return Ok(false);
    }
    let frozen = counting_round(task, env).saturating_sub(1);
    let last_change = STAKE_HISTORY
        .prefix((task.id, address))
        .keys(storage, None, None, Order::Descending)
        .next()
        .transpose()?
        .unwrap_or(0);
    let last_assigned = LAST_ASSIGNED.may_load(storage, (task.id, address))?.unwrap_or(0);
    if last_change > frozen || last_assigned > state.rounds_finalized {
        return Ok(false);
    }
    p.slot = None;
    PARTICIPANTS.save(storage, (task.id, address), p)?;
    FREE_SLOTS.save(storage, (task.id, slot), &())?;
    Ok(true)
}

/// A scored submission's place in the ranking index: `(u32::MAX - consensus) << 64 | id`, so
/// ascending keys are descending consensus, then ascending (earlier) submission id.
pub fn ranking_key(consensus: u32, submission_id: u64) -> u128 {
    (u128::from(u32::MAX - consensus) << 64) | u128::from(submission_id)
}

/// The submission id inside a [`ranking_key`].
pub fn ranked_submission(key: u128) -> u64 {
    key as u64
}

/// The consensus score inside a [`ranking_key`].
pub fn ranked_consensus(key: u128) -> u32 {
    u32::MAX - (key >> 64) as u32
}
