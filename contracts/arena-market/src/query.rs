//! Typed queries: everything a worker, a UI or an auditor needs, list queries paginated.

use arena_types::market::median::classify;
use arena_types::market::msg::{
    AssignmentResponse, AssignmentsResponse, BeaconResponse, ConfigResponse, DelegationResponse, DelegationsResponse,
    ParticipantResponse, ParticipantsResponse, RankEntry, RankingResponse, RewardsResponse, Role, RoundResponse,
    SlashEventsResponse, StakeAtResponse, SubmissionResponse, SubmissionStatus, SubmissionsResponse, TaskResponse,
    TasksResponse,
};
use arena_types::market::sampling::stake_power;
use cosmwasm_std::{Addr, Deps, Env, Order, StdError, StdResult, Uint128};
use cw_storage_plus::Bound;

use crate::round::load_round;
use crate::stake::settle;
use crate::state::{
    effective, effective_of, now, ranked_consensus, ranked_submission, revealed_model, stake_at, Assignment,
    Participant, Submission, SubmissionResult, Task, ASSIGNMENTS, BEACONS, CONFIG, DELEGATIONS, EVALUATION_KEYS,
    EVALUATION_SHARDS, MODELS, NEXT_SUBMISSION_IDS, NEXT_TASK_ID, PARTICIPANTS, PAUSED, RANKED, RANKING, RESULTS,
    REWARDS, ROUNDS, SLASH_EVENTS, SUBMISSIONS, TASKS, TASK_STATE, VALIDATOR_ASSIGNMENTS,
};

pub const DEFAULT_LIMIT: u32 = 30;
pub const MAX_LIMIT: u32 = 100;

fn limit(l: Option<u32>) -> usize {
    l.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

fn load_task(deps: Deps, task_id: u64) -> StdResult<Task> {
    TASKS.may_load(deps.storage, task_id)?.ok_or_else(|| StdError::not_found(format!("task {task_id}")))
}

pub fn query_config(deps: Deps, env: &Env) -> StdResult<ConfigResponse> {
    let c = CONFIG.load(deps.storage)?;
    let now = env.block.time.seconds();
    let bridge = c.bridge_at(now).cloned();
    let pending_bridge = c.pending_bridge.filter(|(_, from)| *from > now);
    Ok(ConfigResponse {
        admin: c.admin,
        token: c.token,
        max_commission: c.max_commission,
        max_commission_change: c.max_commission_change,
        paused: PAUSED.load(deps.storage)?,
        next_task_id: NEXT_TASK_ID.load(deps.storage)?,
        bridge,
        min_evm_withdrawal: c.min_evm_withdrawal,
        pending_bridge,
        bridge_change_delay: c.bridge_change_delay,
    })
}

fn task_response(deps: Deps, env: &Env, mut task: Task) -> StdResult<TaskResponse> {
    let s = TASK_STATE.load(deps.storage, task.id)?;
    // The shards are stored one per round, apart from the task (see `Task`).
    task.params.evaluation = EVALUATION_SHARDS
        .prefix(task.id)
        .range(deps.storage, None, None, Order::Ascending)
        .map(|r| r.map(|(_, shard)| shard))
        .collect::<StdResult<_>>()?;
    Ok(TaskResponse {
        id: task.id,
        creator: task.creator,
        now: task.schedule.at(now(task.schedule.clock, env)),
        params: task.params,
        schedule: task.schedule,
        accounts: s.accounts,
        trainer_stake: s.trainer_stake,
        validator_stake: s.validator_stake,
        rounds_finalized: s.rounds_finalized,
        trainers: s.trainers,
        validators: s.validator_slots,
        next_submission_id: NEXT_SUBMISSION_IDS.load(deps.storage, task.id)?,
        stakes_count_from: task.schedule.counting_round(now(task.schedule.clock, env)),
    })
}

pub fn query_beacon(deps: Deps, env: &Env, task_id: u64) -> StdResult<BeaconResponse> {
    let task = TASKS.load(deps.storage, task_id)?;
    let known = BEACONS.load(deps.storage, task_id)?;
    // The next value due: the round after the last revealed one, or the current round's if
    // the creator skipped rounds (the chain lets it reveal any later round).
    let current = task.schedule.at(now(task.schedule.clock, env)).round;
    let next = (known.round + 1).max(current.min(task.params.rounds));
    let next_round = (known.round < task.params.rounds).then_some(next);
    Ok(BeaconResponse {
        task_id,
        anchor: task.params.beacon.clone(),
        revealed_round: known.round,
        value: known.value,
        next_round,
        next_opens_at: next_round.map(|r| task.schedule.stake_freeze(r)),
        next_deadline: next_round.map(|r| task.schedule.beacon_deadline(r)),
    })
}

pub fn query_stake_at(deps: Deps, task_id: u64, address: String, round: u32) -> StdResult<StakeAtResponse> {
    let task = TASKS.load(deps.storage, task_id)?;
    let address = deps.api.addr_validate(&address)?;
    let p = PARTICIPANTS.load(deps.storage, (task_id, &address))?;
    let counted = stake_at(deps.storage, task_id, &address, round)?;
    let effective = effective_of(&task.params, p.role, counted.own, counted.delegated);
    let sampling_weight = match p.role {
        Role::Validator => stake_power(effective, task.params.beta).unwrap_or_default(),
        Role::Trainer => Uint128::zero(),
    };
    Ok(StakeAtResponse {
        task_id,
        address,
        round,
        own: counted.own,
        delegated: counted.delegated,
        effective,
        commission: counted.commission,
        sampling_weight,
    })
}

pub fn query_task(deps: Deps, env: &Env, task_id: u64) -> StdResult<TaskResponse> {
    let task = load_task(deps, task_id)?;
    task_response(deps, env, task)
}

pub fn query_tasks(deps: Deps, env: &Env, start_after: Option<u64>, l: Option<u32>) -> StdResult<TasksResponse> {
    let tasks = TASKS
        .range(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .map(|r| r.and_then(|(_, t)| task_response(deps, env, t)))
        .collect::<StdResult<_>>()?;
    Ok(TasksResponse { tasks })
}

pub fn query_round(deps: Deps, env: &Env, task_id: u64, round: u32) -> StdResult<RoundResponse> {
    let task = load_task(deps, task_id)?;
    if round == 0 || round > task.params.rounds {
        return Err(StdError::not_found(format!("round {round} of task {task_id}")));
    }
    let state = TASK_STATE.load(deps.storage, task_id)?;
    let rs = match ROUNDS.may_load(deps.storage, (task_id, round))? {
        Some(rs) => rs,
        None => load_round(deps.storage, task_id, round).map_err(|e| StdError::generic_err(e.to_string()))?,
    };
    Ok(RoundResponse {
        task_id,
        round,
        phase: task.schedule.phase_of(round, now(task.schedule.clock, env)),
        first_submission: rs.first_submission,
        submissions: rs.submissions,
        assigned: rs.assigned,
        seed: rs.seed,
        stage: rs.stage,
        emission: rs.emission,
        validator_budget: rs.validator_budget,
        trainer_budget: rs.trainer_budget,
        trainer_weight_total: rs.trainer_weight_total,
        validator_weight_total: rs.validator_weight_total,
        paid: rs.paid,
        scored: rs.scored,
        finalized: round <= state.rounds_finalized,
        evaluation_key: EVALUATION_KEYS.may_load(deps.storage, (task_id, round))?,
        void: rs.void,
        bond_forfeit: rs.bond_forfeit,
    })
}

/// A submission with its model and result. A submission whose model is not revealed reads as
/// `Unrevealed` even before assignment or finalization writes that down.
fn submission_response(deps: Deps, task_id: u64, id: u64, s: Submission) -> StdResult<SubmissionResponse> {
    let r = RESULTS.load(deps.storage, (task_id, id))?;
    let model = MODELS.may_load(deps.storage, (task_id, id))?.map(revealed_model);
    let status = match (r.status, &model) {
        (SubmissionStatus::Pending, None) => SubmissionStatus::Unrevealed,
        (status, _) => status,
    };
    Ok(SubmissionResponse {
        id,
        task_id,
        round: s.round,
        trainer: s.trainer,
        commitment: s.commitment,
        model,
        stake: s.stake,
        assigned: r.assigned,
        assigned_weight: r.assigned_weight,
        revealed_weight: r.revealed_weight,
        status,
        consensus: r.consensus,
        baseline: r.baseline,
        rank: r.rank,
        weight: r.weight,
        reward: r.reward,
    })
}

pub fn query_submission(deps: Deps, task_id: u64, id: u64) -> StdResult<SubmissionResponse> {
    let s = SUBMISSIONS
        .may_load(deps.storage, (task_id, id))?
        .ok_or_else(|| StdError::not_found(format!("submission {id} of task {task_id}")))?;
    submission_response(deps, task_id, id, s)
}

pub fn query_submissions(
    deps: Deps,
    task_id: u64,
    round: Option<u32>,
    start_after: Option<u64>,
    l: Option<u32>,
) -> StdResult<SubmissionsResponse> {
    // A round's submissions are a contiguous range of ids.
    let (mut lo, hi) = match round {
        Some(r) => match ROUNDS.may_load(deps.storage, (task_id, r))? {
            Some(rs) => (
                Some(Bound::inclusive(rs.first_submission)),
                Some(Bound::exclusive(rs.first_submission + rs.submissions)),
            ),
            None => return Ok(SubmissionsResponse { submissions: vec![] }),
        },
        None => (None, None),
    };
    if let Some(after) = start_after {
        let after_bound = match &lo {
            Some(Bound::Inclusive((first, _))) if *first > after => Bound::inclusive(*first),
            _ => Bound::exclusive(after),
        };
        lo = Some(after_bound);
    }
    let submissions = SUBMISSIONS
        .prefix(task_id)
        .range(deps.storage, lo, hi, Order::Ascending)
        .take(limit(l))
        .map(|r| r.and_then(|(id, s)| submission_response(deps, task_id, id, s)))
        .collect::<StdResult<_>>()?;
    Ok(SubmissionsResponse { submissions })
}

/// An assignment with its standing, derived from its score and the submission's consensus.
fn assignment_response(
    task: &Task,
    result: &SubmissionResult,
    submission_id: u64,
    validator: Addr,
    a: Assignment,
) -> AssignmentResponse {
    let standing = match (a.score, result.consensus) {
        (Some(score), Some(c)) => Some(classify(score, c, task.params.tau, task.params.outlier_bound)),
        _ => None,
    };
    AssignmentResponse {
        submission_id,
        validator,
        weight: a.weight,
        commitment: a.commitment,
        score: a.score,
        baseline: a.baseline,
        standing,
        slashed: a.slashed,
    }
}

pub fn query_assignments(
    deps: Deps,
    task_id: u64,
    submission_id: u64,
    start_after: Option<String>,
    l: Option<u32>,
) -> StdResult<AssignmentsResponse> {
    let task = load_task(deps, task_id)?;
    let result = RESULTS.may_load(deps.storage, (task_id, submission_id))?.unwrap_or_else(SubmissionResult::pending);
    let start = start_after.map(|a| deps.api.addr_validate(&a)).transpose()?;
    let assignments = ASSIGNMENTS
        .prefix((task_id, submission_id))
        .range(deps.storage, start.as_ref().map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .map(|r| r.map(|(v, a)| assignment_response(&task, &result, submission_id, v, a)))
        .collect::<StdResult<_>>()?;
    Ok(AssignmentsResponse { assignments })
}

pub fn query_validator_assignments(
    deps: Deps,
    task_id: u64,
    validator: String,
    start_after: Option<u64>,
    l: Option<u32>,
) -> StdResult<AssignmentsResponse> {
    let task = load_task(deps, task_id)?;
    let validator = deps.api.addr_validate(&validator)?;
    let assignments = VALIDATOR_ASSIGNMENTS
        .prefix((task_id, &validator))
        .keys(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .map(|r| {
            r.and_then(|id| {
                let a = ASSIGNMENTS.load(deps.storage, (task_id, id, &validator))?;
                let result = RESULTS.load(deps.storage, (task_id, id))?;
                Ok(assignment_response(&task, &result, id, validator.clone(), a))
            })
        })
        .collect::<StdResult<_>>()?;
    Ok(AssignmentsResponse { assignments })
}

pub fn query_ranking(
    deps: Deps,
    task_id: u64,
    round: u32,
    start_after: Option<u32>,
    l: Option<u32>,
) -> StdResult<RankingResponse> {
    let entry = |rank: u32, id: u64, consensus: Option<u32>| -> StdResult<RankEntry> {
        let s = SUBMISSIONS.load(deps.storage, (task_id, id))?;
        let consensus = match consensus {
            Some(c) => c,
            None => RESULTS.load(deps.storage, (task_id, id))?.consensus.unwrap_or_default(),
        };
        Ok(RankEntry { rank, submission_id: id, trainer: s.trainer, consensus })
    };
    let ranked = RANKED.prefix((task_id, round));
    if ranked.keys(deps.storage, None, None, Order::Ascending).next().is_some() {
        let ranking = ranked
            .range(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
            .take(limit(l))
            .map(|r| r.and_then(|(rank, id)| entry(rank, id, None)))
            .collect::<StdResult<_>>()?;
        return Ok(RankingResponse { ranking });
    }
    // Not ranked yet (finalization is scoring): the provisional order, first page only.
    if start_after.is_some() {
        return Err(StdError::generic_err(format!(
            "round {round} of task {task_id} is not ranked yet: page through it once its finalization ranked it"
        )));
    }
    let ranking = RANKING
        .prefix((task_id, round))
        .keys(deps.storage, None, None, Order::Ascending)
        .take(limit(l))
        .enumerate()
        .map(|(rank, key)| key.and_then(|key| entry(rank as u32, ranked_submission(key), Some(ranked_consensus(key)))))
        .collect::<StdResult<_>>()?;
    Ok(RankingResponse { ranking })
}

fn participant_response(task: &Task, address: Addr, p: Participant) -> ParticipantResponse {
    ParticipantResponse {
        task_id: task.id,
        effective: effective(&task.params, &p),
        address,
        role: p.role,
        own: p.own,
        delegated: p.delegated,
        unbonding: p.unbonding,
        unbonding_release: p.release_at,
        commission: p.commission,
        slot: p.slot,
        sampling_weight: p.sampling_weight,
        reward_index: p.reward_index,
        delegator_reserve: p.delegator_reserve,
        slashed: p.slashed,
    }
}

pub fn query_participant(deps: Deps, task_id: u64, address: String) -> StdResult<ParticipantResponse> {
    let task = load_task(deps, task_id)?;
    let address = deps.api.addr_validate(&address)?;
    let p = PARTICIPANTS
        .may_load(deps.storage, (task_id, &address))?
        .ok_or_else(|| StdError::not_found(format!("participant {address} of task {task_id}")))?;
    Ok(participant_response(&task, address, p))
}

pub fn query_participants(
    deps: Deps,
    task_id: u64,
    start_after: Option<String>,
    l: Option<u32>,
) -> StdResult<ParticipantsResponse> {
    let task = load_task(deps, task_id)?;
    let start = start_after.map(|a| deps.api.addr_validate(&a)).transpose()?;
    let participants = PARTICIPANTS
        .prefix(task_id)
        .range(deps.storage, start.as_ref().map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .map(|r| r.map(|(a, p)| participant_response(&task, a, p)))
        .collect::<StdResult<_>>()?;
    Ok(ParticipantsResponse { participants })
}

fn delegation_response(deps: Deps, task_id: u64, delegator: Addr, operator: Addr) -> StdResult<DelegationResponse> {
    let mut d = DELEGATIONS
        .may_load(deps.storage, (task_id, &delegator, &operator))?
        .ok_or_else(|| StdError::not_found(format!("delegation {delegator} -> {operator}")))?;
    let finalized = TASK_STATE.load(deps.storage, task_id)?.rounds_finalized;
    settle(deps.storage, task_id, &delegator, &operator, &mut d, finalized)
        .map_err(|e| StdError::generic_err(e.to_string()))?;
    Ok(DelegationResponse {
        task_id,
        delegator,
        operator,
        amount: d.amount,
        pending_rewards: d.pending,
        unbonding: d.unbonding,
        unbonding_release: d.release_at,
    })
}

pub fn query_delegation(
    deps: Deps,
    task_id: u64,
    delegator: String,
    operator: String,
) -> StdResult<DelegationResponse> {
    let delegator = deps.api.addr_validate(&delegator)?;
    let operator = deps.api.addr_validate(&operator)?;
    delegation_response(deps, task_id, delegator, operator)
}

pub fn query_delegations(
    deps: Deps,
    task_id: u64,
    delegator: String,
    start_after: Option<String>,
    l: Option<u32>,
) -> StdResult<DelegationsResponse> {
    let delegator = deps.api.addr_validate(&delegator)?;
    let start = start_after.map(|a| deps.api.addr_validate(&a)).transpose()?;
    let operators: Vec<Addr> = DELEGATIONS
        .prefix((task_id, &delegator))
        .keys(deps.storage, start.as_ref().map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .collect::<StdResult<_>>()?;
    let delegations = operators
        .into_iter()
        .map(|op| delegation_response(deps, task_id, delegator.clone(), op))
        .collect::<StdResult<_>>()?;
    Ok(DelegationsResponse { delegations })
}

pub fn query_rewards(deps: Deps, address: String) -> StdResult<RewardsResponse> {
    let address = deps.api.addr_validate(&address)?;
    let claimable = REWARDS.may_load(deps.storage, &address)?.unwrap_or(Uint128::zero());
    Ok(RewardsResponse { address, claimable })
}

pub fn query_slash_events(
    deps: Deps,
    task_id: u64,
    start_after: Option<u64>,
    l: Option<u32>,
) -> StdResult<SlashEventsResponse> {
    let events = SLASH_EVENTS
        .prefix(task_id)
        .range(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
        .take(limit(l))
        .map(|r| r.map(|(_, e)| e))
        .collect::<StdResult<_>>()?;
    Ok(SlashEventsResponse { events })
}
