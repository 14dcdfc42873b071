//! Every item the market stores, and the few helpers that must run on each change of a stake so
//! that totals and the sampling tree never drift from the participants they summarize.

use arena_types::market::msg::{
    FinalizeStage, ModelMetadata, Role, SlashEvent, SubmissionStatus, TaskAccounts, TaskParams,
};
use arena_types::market::phase::{Clock, Schedule};
use arena_types::market::rewards::effective_stake;
use arena_types::market::sampling::{fenwick_double, fenwick_find, fenwick_update, stake_power};
use cosmwasm_schema::cw_serde;
use std::cell::RefCell;

use cosmwasm_std::{Addr, Binary, Decimal, Decimal256, Env, HexBinary, StdError, StdResult, Storage, Uint128};
use cw_storage_plus::{Item, Map};

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
    pub paused: bool,
    /// The arena-bridge contract `WithdrawToEvm` sends to. Stored configs from before it existed
    /// have no such field and read as `None`.
    #[serde(default)]
    pub bridge: Option<Addr>,
}

/// What never changes after creation.
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

/// The randomness of a task: the seed of round `seed_round`. The salts revealed since are
/// folded into [`SALT_MIX`] ([`arena_types::market::commitment::mix_salt`]).
#[cw_serde]
pub struct Seeds {
    pub seed_round: u32,
    pub seed: HexBinary,
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
    /// Validators: their slot in the sampling tree.
    pub slot: Option<u32>,
    pub sampling_weight: Uint128,
    /// Delegator rewards per delegated token, cumulative.
    pub reward_index: Decimal256,
    /// Credited to delegators and not yet withdrawn by them.
    pub delegator_reserve: Uint128,
    pub slashed: Uint128,
}

#[cw_serde]
pub struct Delegation {
    pub amount: Uint128,
    /// The operator's reward index when this delegation was last settled.
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
}

/// What a training node submitted; never changes once saved.
#[cw_serde]
pub struct Submission {
    pub round: u32,
    pub trainer: Addr,
    pub model_sha256: HexBinary,
    pub uri: String,
    pub metadata: ModelMetadata,
    /// The trainer's effective stake T_i when it submitted.
    pub stake: Uint128,
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
    pub commitment: Option<HexBinary>,
    pub score: Option<u32>,
    /// Slashed for this assignment (liveness or outlier). Its standing is not stored: it follows
    /// from the score and the submission's consensus ([`arena_types::market::median::classify`]).
    pub slashed: Uint128,
}

pub const CONFIG: Item<Config> = Item::new("config_v1");
pub const NEXT_TASK_ID: Item<u64> = Item::new("next_task_id_v1");
pub const TASKS: Map<u64, Task> = Map::new("tasks_v1");
/// task -> its schedule, a copy of `Task::schedule` small enough for commit and reveal to read
/// without the task's parameters.
pub const SCHEDULES: Map<u64, Schedule> = Map::new("schedules_v1");
pub const TASK_STATE: Map<u64, TaskState> = Map::new("task_state_v1");
pub const SEEDS: Map<u64, Seeds> = Map::new("seeds_v1");
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
/// (task, Fenwick node) -> partial sum of sampling weights.
pub const SAMPLING_TREE: Map<(u64, u32), Uint128> = Map::new("sampling_tree_v1");
/// (task, delegator, operator) -> delegation.
pub const DELEGATIONS: Map<(u64, &Addr, &Addr), Delegation> = Map::new("delegations_v1");
/// (task, round) -> round state.
pub const ROUNDS: Map<(u64, u32), RoundState> = Map::new("rounds_v1");
/// (task, submission id) -> submission.
pub const SUBMISSIONS: Map<(u64, u64), Submission> = Map::new("submissions_v1");
/// (task, submission id) -> what assignment and finalization found.
pub const RESULTS: Map<(u64, u64), SubmissionResult> = Map::new("submission_results_v1");
/// (task, round, trainer) -> its submission id: one submission per trainer per round.
pub const TRAINER_SUBMISSIONS: Map<(u64, u32, &Addr), u64> = Map::new("trainer_submissions_v1");
/// (task, submission id, validator) -> assignment with its commit and reveal.
pub const ASSIGNMENTS: Map<(u64, u64, &Addr), Assignment> = Map::new("assignments_v1");
/// (task, validator, submission id): the index behind a validator's assignment list.
pub const VALIDATOR_ASSIGNMENTS: Map<(u64, &Addr, u64), ()> = Map::new("validator_assignments_v1");
/// (task, round, [`ranking_key`]): iterating it gives the ranking, best first, ties to the
/// earlier submission.
pub const RANKING: Map<(u64, u32, u128), ()> = Map::new("ranking_v1");
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
    if p.own < min_stake(params, p.role) {
        return Uint128::zero();
    }
    effective_stake(p.own, p.delegated, params.epsilon)
}

/// Saves a participant after any change of its stakes, keeping the task's stake sums and the
/// validator sampling tree in step. `before` is the stored value (None for a new participant).
pub fn save_participant(
    storage: &mut dyn Storage,
    task: &Task,
    state: &mut TaskState,
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
                let slot = after.slot.expect("validators always hold a slot");
                let (delta, subtract) =
                    if weight > previous { (weight - previous, false) } else { (previous - weight, true) };
                // Both node accessors need the storage; a RefCell lends it to one at a time.
                let cell = RefCell::new(&mut *storage);
                fenwick_update(
                    state.sampling_capacity,
                    slot,
                    delta.u128(),
                    subtract,
                    |i| Ok::<_, StdError>(sampling_node(&**cell.borrow(), task.id, i)?.u128()),
                    |i, v| SAMPLING_TREE.save(&mut **cell.borrow_mut(), (task.id, i), &Uint128::new(v)),
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
    Ok(())
}

/// The validator slot under a point of the sampling weight line.
pub fn find_slot(storage: &dyn Storage, task_id: u64, capacity: u32, point: u128) -> StdResult<u32> {
    fenwick_find(capacity, point, |i| Ok(sampling_node(storage, task_id, i)?.u128()))
}

fn sampling_node(storage: &dyn Storage, task_id: u64, node: u32) -> StdResult<Uint128> {
    Ok(SAMPLING_TREE.may_load(storage, (task_id, node))?.unwrap_or_default())
}

/// Gives a new validator the next slot, doubling the sampling tree when the slot outgrows it.
/// The slot's weight is set by [`save_participant`].
pub fn add_validator_slot(
    storage: &mut dyn Storage,
    task_id: u64,
    state: &mut TaskState,
    validator: &Addr,
) -> Result<u32, ContractError> {
    if state.validator_slots >= MAX_VALIDATOR_SLOTS {
        return Err(ContractError::ValidatorSetFull { task_id, max: MAX_VALIDATOR_SLOTS });
    }
    state.validator_slots += 1;
    VALIDATOR_SLOTS.save(storage, (task_id, state.validator_slots), validator)?;
    if state.validator_slots > state.sampling_capacity {
        let top = sampling_node(storage, task_id, state.sampling_capacity)?;
        state.sampling_capacity = fenwick_double(
            state.sampling_capacity,
            |_| Ok::<_, StdError>(top.u128()),
            |i, v| SAMPLING_TREE.save(storage, (task_id, i), &Uint128::new(v)),
        )?;
    }
    Ok(state.validator_slots)
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
