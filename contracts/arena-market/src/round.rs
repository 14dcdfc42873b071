//! One round's validator work: assignment, commits and reveals (the trainers' part is in
//! `submission`, the creator's in `creator`).

use arena_types::market::commitment::{
    assignment_seed, mix_salt, next_round_seed, score_commitment, MAX_SCORE, UNUSABLE_SHARD,
};
use arena_types::market::msg::{FinalizeStage, Role, SubmissionStatus};
use arena_types::market::phase::{Phase, Schedule};
use arena_types::market::sampling::{sample_slots, stake_power};
use cosmwasm_std::{Addr, Binary, DepsMut, Env, HexBinary, MessageInfo, Order, Response, StdError, Storage, Uint128};

use crate::error::ContractError;
use crate::state::{
    effective_of, find_slot, load_schedule, load_task, now, stake_at, totals_at, Assignment, RoundState, StakeTotals,
    SubmissionResult, Task, ASSIGNMENTS, BEACONS, EVALUATION_KEYS, LAST_ASSIGNED, MODELS, NEXT_SUBMISSION_IDS, RESULTS,
    ROUNDS, SALT_MIX, SEEDS, SUBMISSIONS, VALIDATOR_ASSIGNMENTS, VALIDATOR_SLOTS,
};

/// Default and most submissions one `Assign` call samples validators for.
pub const DEFAULT_ASSIGN_LIMIT: u32 = 10;
pub const MAX_ASSIGN_LIMIT: u32 = 100;

/// A round's state; a round nobody has touched yet starts at the next submission id, which is
/// right because rounds never overlap: all of round r's submissions come before round r+1's.
pub fn load_round(storage: &dyn Storage, task_id: u64, round: u32) -> Result<RoundState, ContractError> {
    if let Some(rs) = ROUNDS.may_load(storage, (task_id, round))? {
        return Ok(rs);
    }
    let first_submission = NEXT_SUBMISSION_IDS.load(storage, task_id)?;
    Ok(RoundState {
        first_submission,
        submissions: 0,
        assigned: 0,
        seed: None,
        stage: FinalizeStage::Pending,
        emission: Uint128::zero(),
        validator_budget: Uint128::zero(),
        trainer_budget: Uint128::zero(),
        trainer_weight_total: Uint128::zero(),
        validator_weight_total: Uint128::zero(),
        paid: Uint128::zero(),
        scored: 0,
        void: false,
        bond_forfeit: Uint128::zero(),
    })
}

/// Fails unless `round` is the current round and in `expected` phase.
pub(crate) fn assert_phase(schedule: &Schedule, env: &Env, round: u32, expected: Phase) -> Result<(), ContractError> {
    let actual = schedule.phase_of(round, now(schedule.clock, env));
    if actual != expected {
        return Err(ContractError::WrongPhase { round, expected, actual });
    }
    Ok(())
}

pub(crate) fn bytes32(field: &'static str, value: &HexBinary) -> Result<[u8; 32], ContractError> {
    value.to_array::<32>().map_err(|_| ContractError::BadLength { field, len: value.len() })
}

/// The salts revealed since the last seed, folded.
fn load_mix(storage: &dyn Storage, task_id: u64) -> Result<[u8; 32], ContractError> {
    let mix = SALT_MIX.load(storage, task_id)?;
    mix.to_array::<32>().map_err(|_| ContractError::BadLength { field: "mix", len: mix.len() })
}

/// The seed of `round`, rolling the task's seed forward (once per round) with the salts revealed
/// since the last roll and the creator's beacon value of `round`. Without the beacon it waits
/// until [`Schedule::beacon_deadline`], then goes ahead without it.
fn round_seed(storage: &mut dyn Storage, task: &Task, now: u64, round: u32) -> Result<([u8; 32], bool), ContractError> {
    let mut seeds = SEEDS.load(storage, task.id)?;
    let mut seed = bytes32("seed", &seeds.seed)?;
    let mut beacon_missed = false;
    if seeds.seed_round < round {
        let known = BEACONS.load(storage, task.id)?;
        let beacon = if known.round == round {
            bytes32("beacon", &known.value)?
        } else {
            let deadline = task.schedule.beacon_deadline(round);
            if now < deadline {
                return Err(ContractError::BeaconPending { round, deadline, now });
            }
            beacon_missed = true;
            [0u8; 32]
        };
        let mix = load_mix(storage, task.id)?;
        seed = next_round_seed(&seed, &mix, &beacon, round);
        seeds.seed = HexBinary::from(seed);
        seeds.seed_round = round;
        SEEDS.save(storage, task.id, &seeds)?;
        SALT_MIX.save(storage, task.id, &Binary::from([0u8; 32]))?;
    }
    Ok((seed, beacon_missed))
}

/// Fails once `round` is void: its evaluation key was not revealed by the deadline, so no
/// validator can score it.
fn assert_not_void(
    storage: &dyn Storage,
    schedule: &Schedule,
    now: u64,
    task_id: u64,
    round: u32,
) -> Result<(), ContractError> {
    let deadline = schedule.key_deadline(round);
    if now >= deadline && !EVALUATION_KEYS.has(storage, (task_id, round)) {
        return Err(ContractError::RoundVoid { round, deadline });
    }
    Ok(())
}

/// Samples the validators of one submission from the stakes frozen for `round` and records the
/// assignments; returns them. A submission whose model was never revealed, or is a duplicate,
/// gets none: there is nothing (new) to score.
fn assign_submission(
    storage: &mut dyn Storage,
    task: &Task,
    totals: &StakeTotals,
    round: u32,
    seed: &[u8; 32],
    submission_id: u64,
) -> Result<Vec<Addr>, ContractError> {
    let mut result = RESULTS.load(storage, (task.id, submission_id))?;
    if result.status == SubmissionStatus::Duplicate {
        return Ok(vec![]);
    }
    if !MODELS.has(storage, (task.id, submission_id)) {
        result.status = SubmissionStatus::Unrevealed;
        RESULTS.save(storage, (task.id, submission_id), &result)?;
        return Ok(vec![]);
    }
    let sub_seed = assignment_seed(task.id, round, submission_id, seed);
    let slots = {
        let storage: &dyn Storage = storage;
        let slot_weight = |slot: u32| -> Result<u128, StdError> {
            let addr = VALIDATOR_SLOTS.load(storage, (task.id, slot))?;
            let counted = stake_at(storage, task.id, &addr, round)?;
            let effective = effective_of(&task.params, Role::Validator, counted.own, counted.delegated);
            Ok(stake_power(effective, task.params.beta).unwrap_or_default().u128())
        };
        sample_slots(
            &sub_seed,
            task.params.validators_per_submission,
            totals.validator_slots,
            totals.sampling_total.u128(),
            slot_weight,
            |point| find_slot(storage, task.id, totals.sampling_capacity, round, point),
        )?
    };
    let mut total = Uint128::zero();
    let mut validators = Vec::with_capacity(slots.len());
    for slot in &slots {
        let validator = VALIDATOR_SLOTS.load(storage, (task.id, *slot))?;
        // A reveal weighs the validator's own stake only: consensus power must be slashable.
        let weight = stake_at(storage, task.id, &validator, round)?.own;
        total = total.checked_add(weight)?;
        ASSIGNMENTS.save(
            storage,
            (task.id, submission_id, &validator),
            &Assignment {
                round,
                slot: *slot,
                weight,
                commitment: None,
                score: None,
                baseline: None,
                slashed: Uint128::zero(),
            },
        )?;
        VALIDATOR_ASSIGNMENTS.save(storage, (task.id, &validator, submission_id), &())?;
        LAST_ASSIGNED.save(storage, (task.id, &validator), &round)?;
        validators.push(validator);
    }
    let result = SubmissionResult { assigned: true, assigned_weight: total, ..SubmissionResult::pending() };
    RESULTS.save(storage, (task.id, submission_id), &result)?;
    Ok(validators)
}

pub fn execute_assign(deps: DepsMut, env: Env, task_id: u64, limit: Option<u32>) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let round = task.schedule.at(now(task.schedule.clock, &env)).round;
    assert_phase(&task.schedule, &env, round, Phase::Commit)?;
    assert_not_void(deps.storage, &task.schedule, now(task.schedule.clock, &env), task_id, round)?;
    let mut rs = load_round(deps.storage, task_id, round)?;
    let mut beacon_missed = false;
    let seed = match &rs.seed {
        Some(s) => bytes32("seed", s)?,
        None => {
            let (s, missed) = round_seed(deps.storage, &task, now(task.schedule.clock, &env), round)?;
            beacon_missed = missed;
            rs.seed = Some(HexBinary::from(s));
            s
        }
    };
    let totals = totals_at(deps.storage, task_id, round)?;
    let limit = limit.unwrap_or(DEFAULT_ASSIGN_LIMIT).min(MAX_ASSIGN_LIMIT) as u64;
    let mut resp = Response::new()
        .add_attribute("action", "assign")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string());
    let end = (rs.assigned + limit).min(rs.submissions);
    for i in rs.assigned..end {
        let submission_id = rs.first_submission + i;
        // One `assigned` attribute per validator, "<submission id>:<validator>", for watchers.
        for v in assign_submission(deps.storage, &task, &totals, round, &seed, submission_id)? {
            resp = resp.add_attribute("assigned", format!("{submission_id}:{v}"));
        }
    }
    rs.assigned = end;
    ROUNDS.save(deps.storage, (task_id, round), &rs)?;
    if beacon_missed {
        resp = resp.add_attribute("beacon", "missed");
    }
    Ok(resp.add_attribute("assigned_through", rs.assigned.to_string()))
}

fn load_assignment(
    storage: &dyn Storage,
    task_id: u64,
    submission_id: u64,
    validator: &Addr,
) -> Result<Assignment, ContractError> {
    match ASSIGNMENTS.may_load(storage, (task_id, submission_id, validator))? {
        Some(a) => Ok(a),
        // Only on the error path: tell a wrong id from a missing assignment.
        None if !SUBMISSIONS.has(storage, (task_id, submission_id)) => {
            Err(ContractError::UnknownSubmission { task_id, submission_id })
        }
        None => Err(ContractError::NotAssigned { validator: validator.clone(), submission_id }),
    }
}

pub fn execute_commit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    submission_id: u64,
    commitment: HexBinary,
) -> Result<Response, ContractError> {
    let schedule = load_schedule(deps.storage, task_id)?;
    let mut a = load_assignment(deps.storage, task_id, submission_id, &info.sender)?;
    assert_phase(&schedule, &env, a.round, Phase::Commit)?;
    assert_not_void(deps.storage, &schedule, now(schedule.clock, &env), task_id, a.round)?;
    if a.commitment.is_some() {
        return Err(ContractError::DuplicateCommit { validator: info.sender, submission_id });
    }
    bytes32("commitment", &commitment)?;
    a.commitment = Some(commitment.clone());
    ASSIGNMENTS.save(deps.storage, (task_id, submission_id, &info.sender), &a)?;
    Ok(Response::new()
        .add_attribute("action", "commit")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", a.round.to_string())
        .add_attribute("submission_id", submission_id.to_string())
        .add_attribute("validator", info.sender)
        .add_attribute("commitment", commitment.to_hex()))
}

#[allow(clippy::too_many_arguments)] // the message's fields, as in `contract::execute`
pub fn execute_reveal(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    submission_id: u64,
    score: u32,
    baseline: u32,
    salt: HexBinary,
) -> Result<Response, ContractError> {
    let schedule = load_schedule(deps.storage, task_id)?;
    let mut a = load_assignment(deps.storage, task_id, submission_id, &info.sender)?;
    assert_phase(&schedule, &env, a.round, Phase::Reveal)?;
    let committed = match &a.commitment {
        None => return Err(ContractError::NotCommitted { validator: info.sender, submission_id }),
        Some(c) => c.clone(),
    };
    if a.score.is_some() {
        return Err(ContractError::DuplicateReveal { validator: info.sender, submission_id });
    }
    if score > MAX_SCORE {
        return Err(ContractError::ScoreOutOfRange { score, max: MAX_SCORE });
    }
    if baseline > MAX_SCORE && baseline != UNUSABLE_SHARD {
        return Err(ContractError::ScoreOutOfRange { score: baseline, max: MAX_SCORE });
    }
    let salt = bytes32("salt", &salt)?;
    let computed = score_commitment(task_id, a.round, submission_id, info.sender.as_str(), score, baseline, &salt);
    if committed.as_slice() != computed {
        return Err(ContractError::CommitmentMismatch {
            committed: committed.to_hex(),
            computed: HexBinary::from(computed).to_hex(),
        });
    }
    a.score = Some(score);
    a.baseline = Some(baseline);
    ASSIGNMENTS.save(deps.storage, (task_id, submission_id, &info.sender), &a)?;
    // The salt joins the randomness of the next round's assignment.
    let mix = mix_salt(&load_mix(deps.storage, task_id)?, &salt);
    SALT_MIX.save(deps.storage, task_id, &Binary::from(mix))?;
    Ok(Response::new()
        .add_attribute("action", "reveal")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", a.round.to_string())
        .add_attribute("submission_id", submission_id.to_string())
        .add_attribute("validator", info.sender)
        .add_attribute("score", score.to_string())
        .add_attribute("baseline", baseline.to_string()))
}

/// The assignments of one submission (at most k), in validator-address order.
pub fn submission_assignments(
    storage: &dyn Storage,
    task_id: u64,
    submission_id: u64,
) -> Result<Vec<(Addr, Assignment)>, ContractError> {
    Ok(ASSIGNMENTS
        .prefix((task_id, submission_id))
        .range(storage, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?)
}
