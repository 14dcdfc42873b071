//! Paginated finalization of a round, in four stages that each work through at most `limit`
//! items per call:
//!
//! 1. `Score`, by submission id: the consensus of each submission from its (at most k) reveals,
//!    quorum, standing of every reveal, liveness and outlier slashing, the ranking index and the
//!    validators' reward weights.
//! 2. `Rank`, in ranking order: rank and weight `floor(T_i * q^rank)` of each scored submission,
//!    and their total.
//! 3. `PayTrainers`, in ranking order: `R_t * weight / total` to each training node.
//! 4. `PayValidators`, by validator slot: `R_v * weight / total` to each in-consensus validator.
//!
//! Then the round's dust returns to the pool. Each payment goes through the operator split, so
//! delegators receive their part through the operator's reward index.
//!
//! A void round (its evaluation key never revealed) takes no emission from the pool: its
//! trainer budget is `creator_bond / rounds` of the creator's bond instead, scoring slashes nobody
//! and marks every revealed, original submission `Void`, and the trainers are paid pro rata of
//! their frozen stakes (no ranks: nothing was measured). A round whose validators agree its shard
//! was unusable ([`UNUSABLE_SHARD`]) is found out while scoring, after the emission was split:
//! it pays the emission as usual (validators by their standing, trainers pro rata of stake) plus
//! the bond share to the trainers.
//!
//! `limit` bounds a call's work, and so its gas. A scored submission, a rank and a payment are
//! one item each. A slashing costs more than a submission: each one counts as one item more, and
//! each validator slashed in the call as [`SLASHED_VALIDATOR_ITEMS`] more still, for its stake and
//! the sampling tree, written once at the end of the call however often it was slashed. Scoring
//! never stops inside a submission, so a call may overrun its budget by one submission's items.

use std::collections::BTreeMap;

use arena_types::market::commitment::UNUSABLE_SHARD;
use arena_types::market::median::{classify, consensus_score, meets_quorum, Standing, WeightedScore};
use arena_types::market::msg::{FinalizeStage, Role, SlashEvent, SlashReason, SubmissionStatus};
use arena_types::market::rewards::{
    graded_validator_weight, pro_rata, round_emission, slash_amount, split_emission, split_operator_reward,
    trainer_weight,
};
use cosmwasm_std::{Addr, Attribute, Decimal, Decimal256, DepsMut, Env, Order, Response, Storage, Uint128};
use cw_storage_plus::Bound;

use crate::error::ContractError;
use crate::round::{load_round, submission_assignments};
use crate::state::{
    assert_round_exists, counting_round, effective_of, load_participant, load_task, now, ranked_submission,
    ranking_key, save_participant, stake_at, totals_at, Participant, RoundState, Task, TaskState, ASSIGNMENTS,
    EVALUATION_KEYS, INDEX_HISTORY, MODELS, PARTICIPANTS, RANKED, RANKING, RESULTS, REWARDS, ROUNDS, SLASH_EVENTS,
    SUBMISSIONS, TASK_STATE, VALIDATOR_SLOTS, VALIDATOR_WEIGHTS,
};

pub const DEFAULT_FINALIZE_LIMIT: u32 = 50;
pub const MAX_FINALIZE_LIMIT: u32 = 200;
/// What writing a slashed validator's stake and its path in the sampling tree (up to 13 nodes)
/// costs, in items: a slashing that wrote them cost 87-92k gas, a scored submission of k = 9
/// about 28k (BENCHMARKS.md, "arena-market: gas").
pub const SLASHED_VALIDATOR_ITEMS: usize = 2;

/// What one finalization call is working on.
struct Work<'a> {
    task: &'a Task,
    state: TaskState,
    rs: RoundState,
    round: u32,
    /// The round from which the stake changes of this call (slashings) count.
    epoch: u32,
    attrs: Vec<Attribute>,
    /// Validators' effective stakes as frozen for the round (their reward weight per
    /// in-consensus reveal), read once per call.
    stakes: BTreeMap<Addr, Uint128>,
    /// Validators' reward weights earned in this call, written once per validator at the end of
    /// the scoring page rather than once per reveal.
    weights: BTreeMap<u32, Uint128>,
    /// Validators slashed in this call, as (stored, slashed so far): like `weights`, written once
    /// at the end of the scoring page, since each write moves the validator's sampling tree path.
    slashed: BTreeMap<Addr, (Participant, Participant)>,
}

pub fn execute_finalize(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    round: u32,
    limit: Option<u32>,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    assert_round_exists(&task, round)?;
    let state = TASK_STATE.load(deps.storage, task_id)?;
    if round <= state.rounds_finalized {
        return Err(ContractError::AlreadyFinalized { round });
    }
    if round > state.rounds_finalized + 1 {
        return Err(ContractError::FinalizeOutOfOrder { next: state.rounds_finalized + 1 });
    }
    let now = now(task.schedule.clock, &env);
    let closes_at = task.schedule.round_end(round);
    if now < closes_at {
        return Err(ContractError::RoundNotClosed { round, closes_at, now });
    }
    let rs = load_round(deps.storage, task_id, round)?;
    let mut w = Work {
        task: &task,
        state,
        rs,
        round,
        epoch: counting_round(&task, &env),
        attrs: vec![],
        stakes: BTreeMap::new(),
        weights: BTreeMap::new(),
        slashed: BTreeMap::new(),
    };
    if w.rs.stage == FinalizeStage::Pending {
        start(deps.storage, &mut w)?;
    }
    let mut budget = limit.unwrap_or(DEFAULT_FINALIZE_LIMIT).clamp(1, MAX_FINALIZE_LIMIT) as usize;
    let processed = run(deps.storage, &mut w, &mut budget)?;
    ROUNDS.save(deps.storage, (task_id, round), &w.rs)?;
    TASK_STATE.save(deps.storage, task_id, &w.state)?;
    Ok(Response::new()
        .add_attribute("action", "finalize")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string())
        .add_attribute("processed", processed.to_string())
        .add_attribute("stage", stage_name(&w.rs.stage))
        .add_attributes(w.attrs))
}

fn stage_name(s: &FinalizeStage) -> &'static str {
    match s {
        FinalizeStage::Pending => "pending",
        FinalizeStage::Score { .. } => "score",
        FinalizeStage::Rank { .. } => "rank",
        FinalizeStage::PayTrainers { .. } => "pay_trainers",
        FinalizeStage::PayValidators { .. } => "pay_validators",
        FinalizeStage::Done => "done",
    }
}

/// Fixes the round's emission from the pool as it stands now, and its split from the stake
/// sums frozen for the round (stake added or removed since cannot steer it); or, for a void
/// round, its bond forfeit.
fn start(storage: &dyn Storage, w: &mut Work) -> Result<(), ContractError> {
    let p = &w.task.params;
    if !EVALUATION_KEYS.has(storage, (w.task.id, w.round)) {
        forfeit_bond(w, "evaluation key not revealed")?;
        w.rs.stage = FinalizeStage::Score { next_submission: w.rs.first_submission };
        return Ok(());
    }
    let rounds_left = p.rounds - w.state.rounds_finalized;
    let emission = round_emission(w.state.accounts.pool, rounds_left);
    w.state.accounts.pool -= emission;
    w.state.accounts.in_finalization = w.state.accounts.in_finalization.checked_add(emission)?;
    let totals = totals_at(storage, w.task.id, w.round)?;
    let (r_v, r_t) = split_emission(emission, p.gamma, totals.trainer_stake, totals.validator_stake);
    w.rs.emission = emission;
    w.rs.validator_budget = r_v;
    w.rs.trainer_budget = r_t;
    w.rs.stage = FinalizeStage::Score { next_submission: w.rs.first_submission };
    w.attrs.push(Attribute::new("emission", emission));
    w.attrs.push(Attribute::new("validator_budget", r_v));
    w.attrs.push(Attribute::new("trainer_budget", r_t));
    Ok(())
}

/// Voids the round (once) for the creator's failure: `creator_bond / rounds` of its bond joins the
/// trainers' budget, to be shared pro rata of their stakes.
fn forfeit_bond(w: &mut Work, why: &str) -> Result<(), ContractError> {
    if w.rs.void {
        return Ok(());
    }
    let p = &w.task.params;
    let forfeit = (p.creator_bond / Uint128::from(p.rounds)).min(w.state.accounts.bond);
    let a = &mut w.state.accounts;
    a.bond -= forfeit;
    a.bond_forfeited = a.bond_forfeited.checked_add(forfeit)?;
    a.in_finalization = a.in_finalization.checked_add(forfeit)?;
    w.rs.void = true;
    w.rs.bond_forfeit = forfeit;
    w.rs.trainer_budget = w.rs.trainer_budget.checked_add(forfeit)?;
    w.attrs.push(Attribute::new("void", why));
    w.attrs.push(Attribute::new("bond_forfeit", forfeit));
    Ok(())
}

/// Works through stages until the budget is spent or the round is done; returns items done.
fn run(storage: &mut dyn Storage, w: &mut Work, budget: &mut usize) -> Result<usize, ContractError> {
    let mut processed = 0;
    let (task_id, round) = (w.task.id, w.round);
    loop {
        match w.rs.stage.clone() {
            FinalizeStage::Pending => unreachable!("started above"),
            FinalizeStage::Score { mut next_submission } => {
                let end = w.rs.first_submission + w.rs.submissions;
                while *budget > 0 && next_submission < end {
                    let items = score_submission(storage, w, next_submission)?;
                    next_submission += 1;
                    *budget = budget.saturating_sub(items);
                    processed += 1;
                }
                flush_weights(storage, w)?;
                flush_slashed(storage, w)?;
                w.rs.stage = if next_submission == end {
                    FinalizeStage::Rank { after: None, rank: 0 }
                } else {
                    FinalizeStage::Score { next_submission }
                };
            }
            FinalizeStage::Rank { after, mut rank } => {
                let keys = ranking_page(storage, task_id, round, after, *budget)?;
                let exhausted = keys.len() < *budget;
                for key in &keys {
                    let id = ranked_submission(*key);
                    let sub = SUBMISSIONS.load(storage, (task_id, id))?;
                    let mut res = RESULTS.load(storage, (task_id, id))?;
                    // T_i as frozen for the round (round 1 freezes after its submissions).
                    let counted = stake_at(storage, task_id, &sub.trainer, round)?;
                    let stake = effective_of(&w.task.params, Role::Trainer, counted.own, counted.delegated);
                    if w.rs.void {
                        // Nothing was measured: the forfeit goes pro rata of stake, unranked.
                        res.weight = stake;
                    } else {
                        res.rank = Some(rank);
                        res.weight = trainer_weight(stake, w.task.params.q, rank);
                        RANKED.save(storage, (task_id, round, rank), &id)?;
                    }
                    w.rs.trainer_weight_total = w.rs.trainer_weight_total.checked_add(res.weight)?;
                    RESULTS.save(storage, (task_id, id), &res)?;
                    rank += 1;
                }
                *budget -= keys.len();
                processed += keys.len();
                w.rs.stage = if exhausted {
                    FinalizeStage::PayTrainers { after: None }
                } else {
                    FinalizeStage::Rank { after: keys.last().map(|k| Uint128::new(*k)), rank }
                };
            }
            FinalizeStage::PayTrainers { after } => {
                let keys = ranking_page(storage, task_id, round, after, *budget)?;
                let exhausted = keys.len() < *budget;
                for key in &keys {
                    let id = ranked_submission(*key);
                    let sub = SUBMISSIONS.load(storage, (task_id, id))?;
                    let mut res = RESULTS.load(storage, (task_id, id))?;
                    let reward = pro_rata(w.rs.trainer_budget, res.weight, w.rs.trainer_weight_total);
                    credit_operator(storage, w, &sub.trainer, reward)?;
                    res.reward = reward;
                    RESULTS.save(storage, (task_id, id), &res)?;
                }
                *budget -= keys.len();
                processed += keys.len();
                w.rs.stage = if exhausted {
                    FinalizeStage::PayValidators { after: None }
                } else {
                    FinalizeStage::PayTrainers { after: keys.last().map(|k| Uint128::new(*k)) }
                };
            }
            FinalizeStage::PayValidators { after } => {
                let page: Vec<(u32, Uint128)> = VALIDATOR_WEIGHTS
                    .prefix((task_id, round))
                    .range(storage, after.map(Bound::exclusive), None, Order::Ascending)
                    .take(*budget)
                    .collect::<Result<_, _>>()?;
                let exhausted = page.len() < *budget;
                for (slot, weight) in &page {
                    let validator = VALIDATOR_SLOTS.load(storage, (task_id, *slot))?;
                    let reward = pro_rata(w.rs.validator_budget, *weight, w.rs.validator_weight_total);
                    credit_operator(storage, w, &validator, reward)?;
                    w.attrs.push(Attribute::new("validator_reward", format!("{validator}:{reward}")));
                }
                *budget -= page.len();
                processed += page.len();
                w.rs.stage = if exhausted {
                    close(w);
                    FinalizeStage::Done
                } else {
                    FinalizeStage::PayValidators { after: page.last().map(|(slot, _)| *slot) }
                };
            }
            FinalizeStage::Done => return Ok(processed),
        }
        if *budget == 0 && w.rs.stage != FinalizeStage::Done {
            return Ok(processed);
        }
    }
}

/// Adds the reward weights gathered while scoring to the validators' stored weights.
fn flush_weights(storage: &mut dyn Storage, w: &mut Work) -> Result<(), ContractError> {
    for (slot, weight) in std::mem::take(&mut w.weights) {
        VALIDATOR_WEIGHTS.update(storage, (w.task.id, w.round, slot), |v| -> Result<_, ContractError> {
            Ok(v.unwrap_or_default().checked_add(weight)?)
        })?;
    }
    Ok(())
}

/// Writes the stakes of the validators slashed while scoring, moving their sampling weights.
fn flush_slashed(storage: &mut dyn Storage, w: &mut Work) -> Result<(), ContractError> {
    for (validator, (before, mut after)) in std::mem::take(&mut w.slashed) {
        save_participant(storage, w.task, &mut w.state, w.epoch, &validator, Some(&before), &mut after)?;
    }
    Ok(())
}

/// Returns what rounding left of the emission to the pool and marks the round finalized.
fn close(w: &mut Work) {
    let dust = w.state.accounts.in_finalization;
    w.state.accounts.pool += dust;
    w.state.accounts.in_finalization = Uint128::zero();
    w.state.rounds_finalized += 1;
    w.attrs.push(Attribute::new("paid", w.rs.paid));
    w.attrs.push(Attribute::new("dust", dust));
}

fn ranking_page(
    storage: &dyn Storage,
    task_id: u64,
    round: u32,
    after: Option<Uint128>,
    limit: usize,
) -> Result<Vec<u128>, ContractError> {
    Ok(RANKING
        .prefix((task_id, round))
        .keys(storage, after.map(|a| Bound::exclusive(a.u128())), None, Order::Ascending)
        .take(limit)
        .collect::<Result<_, _>>()?)
}

/// Scores one submission; returns the items it cost (see the module doc).
fn score_submission(storage: &mut dyn Storage, w: &mut Work, id: u64) -> Result<usize, ContractError> {
    let (task_id, round) = (w.task.id, w.round);
    let p = &w.task.params;
    let mut res = RESULTS.load(storage, (task_id, id))?;
    // A model never revealed (the crank may not have looked) and duplicates had no validators:
    // they keep, or get, their status, unpaid.
    if res.status == SubmissionStatus::Pending && !res.assigned && !MODELS.has(storage, (task_id, id)) {
        res.status = SubmissionStatus::Unrevealed;
        RESULTS.save(storage, (task_id, id), &res)?;
        return Ok(1);
    }
    if matches!(res.status, SubmissionStatus::Unrevealed | SubmissionStatus::Duplicate) {
        return Ok(1);
    }
    if w.rs.void {
        // The key never came, so no validator could score: nobody is slashed, and the trainer
        // that did its part shares the creator's forfeit.
        res.status = SubmissionStatus::Void;
        RANKING.save(storage, (task_id, round, ranking_key(0, id)), &())?;
        w.rs.scored += 1;
        RESULTS.save(storage, (task_id, id), &res)?;
        return Ok(1);
    }
    let assignments = submission_assignments(storage, task_id, id)?;
    let mut reveals = Vec::with_capacity(assignments.len());
    let mut baselines = Vec::with_capacity(assignments.len());
    // Assignments are written back only when slashed: that is all finalization changes in them.
    let mut slashed: Vec<(&Addr, Uint128)> = vec![];
    let mut items = 1;
    for (validator, a) in &assignments {
        match a.score {
            Some(score) => {
                res.revealed_weight = res.revealed_weight.checked_add(a.weight)?;
                reveals.push(WeightedScore { validator: validator.to_string(), score, weight: a.weight });
                let baseline = a.baseline.unwrap_or_default();
                baselines.push(WeightedScore { validator: validator.to_string(), score: baseline, weight: a.weight });
            }
            None => {
                let (amount, cost) = slash(storage, w, validator, p.liveness_slash, SlashReason::Liveness, id)?;
                slashed.push((validator, amount));
                items += cost;
            }
        }
    }
    let (consensus, baseline) = if meets_quorum(res.revealed_weight, res.assigned_weight, p.quorum) {
        (consensus_score(&reveals, p.tau), consensus_score(&baselines, p.tau))
    } else {
        (None, None)
    };
    res.status = match consensus {
        None => SubmissionStatus::Unscored,
        Some(c) => {
            for (validator, a) in &assignments {
                let Some(score) = a.score else { continue };
                match classify(score, c, p.tau, p.outlier_bound) {
                    Standing::InConsensus => {
                        let stake = frozen_effective_stake(storage, w, validator)?;
                        let weight = graded_validator_weight(stake, score.abs_diff(c), p.tau);
                        if !weight.is_zero() {
                            let pending = w.weights.entry(a.slot).or_default();
                            *pending = pending.checked_add(weight)?;
                            w.rs.validator_weight_total = w.rs.validator_weight_total.checked_add(weight)?;
                        }
                    }
                    Standing::Outlier => {
                        let (amount, cost) = slash(storage, w, validator, p.outlier_slash, SlashReason::Outlier, id)?;
                        slashed.push((validator, amount));
                        items += cost;
                    }
                    Standing::Dissenting => {}
                }
            }
            // Without a baseline consensus (the validators split on it) a submission cannot be
            // shown to beat it.
            let beats_baseline = baseline.is_some_and(|b| c > b);
            if baseline == Some(UNUSABLE_SHARD) {
                // The validators agree the creator's shard could not be used: as void as a
                // missing key, but measured too late to keep the emission back.
                forfeit_bond(w, "evaluation shard unusable")?;
                RANKING.save(storage, (task_id, round, ranking_key(0, id)), &())?;
                w.rs.scored += 1;
                SubmissionStatus::Void
            } else if c < p.min_score {
                SubmissionStatus::BelowMinScore
            } else if p.beat_baseline && !beats_baseline {
                SubmissionStatus::BelowBaseline
            } else {
                RANKING.save(storage, (task_id, round, ranking_key(c, id)), &())?;
                w.rs.scored += 1;
                SubmissionStatus::Scored
            }
        }
    };
    res.consensus = consensus;
    res.baseline = baseline;
    for (validator, amount) in slashed {
        let mut a = ASSIGNMENTS.load(storage, (task_id, id, validator))?;
        a.slashed = amount;
        ASSIGNMENTS.save(storage, (task_id, id, validator), &a)?;
    }
    RESULTS.save(storage, (task_id, id), &res)?;
    w.attrs.push(Attribute::new(
        format!("consensus_{id}"),
        consensus.map(|c| c.to_string()).unwrap_or_else(|| "unscored".into()),
    ));
    Ok(items)
}

/// A validator's effective stake S_j as frozen for the round: its reward weight per
/// in-consensus reveal.
fn frozen_effective_stake(storage: &dyn Storage, w: &mut Work, validator: &Addr) -> Result<Uint128, ContractError> {
    if let Some(stake) = w.stakes.get(validator) {
        return Ok(*stake);
    }
    let counted = stake_at(storage, w.task.id, validator, w.round)?;
    let stake = effective_of(&w.task.params, Role::Validator, counted.own, counted.delegated);
    w.stakes.insert(validator.clone(), stake);
    Ok(stake)
}

/// Takes `share` of the validator's own stake (bonded first, then what it is unbonding) back
/// to the task pool, and records the event. The stake is written by [`flush_slashed`]. Returns
/// the amount and the items the slashing cost.
fn slash(
    storage: &mut dyn Storage,
    w: &mut Work,
    validator: &Addr,
    share: Decimal,
    reason: SlashReason,
    submission_id: u64,
) -> Result<(Uint128, usize), ContractError> {
    let mut items = 1;
    if !w.slashed.contains_key(validator) {
        let stored = load_participant(storage, w.task.id, validator)?;
        w.slashed.insert(validator.clone(), (stored.clone(), stored));
        items += SLASHED_VALIDATOR_ITEMS;
    }
    let (_, after) = w.slashed.get_mut(validator).expect("inserted above");
    let amount = slash_amount(after.own + after.unbonding, share);
    let from_own = amount.min(after.own);
    let from_unbonding = amount - from_own;
    after.own -= from_own;
    after.unbonding -= from_unbonding;
    after.slashed += amount;
    let a = &mut w.state.accounts;
    a.stake = a.stake.checked_sub(from_own)?;
    a.unbonding = a.unbonding.checked_sub(from_unbonding)?;
    a.pool = a.pool.checked_add(amount)?;
    a.slashed = a.slashed.checked_add(amount)?;
    let id = w.state.next_slash_id;
    w.state.next_slash_id += 1;
    SLASH_EVENTS.save(
        storage,
        (w.task.id, id),
        &SlashEvent { id, round: w.round, submission_id, validator: validator.clone(), reason, amount },
    )?;
    w.attrs.push(Attribute::new("slash", format!("{validator}:{reason:?}:{amount}").to_lowercase()));
    Ok((amount, items))
}

/// Credits an operator's reward: its own part and commission to its claimable balance, its
/// delegators' part to its reward index (and reserve), from which they withdraw pro rata.
fn credit_operator(
    storage: &mut dyn Storage,
    w: &mut Work,
    operator: &Addr,
    amount: Uint128,
) -> Result<(), ContractError> {
    if amount.is_zero() {
        return Ok(());
    }
    // Split by the stakes and commission frozen for the round: a delegation made after the
    // freeze, however large, takes nothing of it.
    let counted = stake_at(storage, w.task.id, operator, w.round)?;
    let split =
        split_operator_reward(amount, counted.own, counted.delegated, w.task.params.epsilon, counted.commission);
    REWARDS.update(storage, operator, |r| -> Result<_, ContractError> {
        Ok(r.unwrap_or_default().checked_add(split.operator)?)
    })?;
    if !split.delegators.is_zero() {
        let mut p = PARTICIPANTS.load(storage, (w.task.id, operator))?;
        p.reward_index += Decimal256::checked_from_ratio(split.delegators, counted.delegated)
            .map_err(|e| cosmwasm_std::StdError::generic_err(e.to_string()))?;
        p.delegator_reserve = p.delegator_reserve.checked_add(split.delegators)?;
        PARTICIPANTS.save(storage, (w.task.id, operator), &p)?;
        INDEX_HISTORY.save(storage, (w.task.id, operator, w.round), &p.reward_index)?;
    }
    let a = &mut w.state.accounts;
    a.in_finalization = a.in_finalization.checked_sub(amount)?;
    a.rewarded = a.rewarded.checked_add(amount)?;
    w.rs.paid = w.rs.paid.checked_add(amount)?;
    Ok(())
}
