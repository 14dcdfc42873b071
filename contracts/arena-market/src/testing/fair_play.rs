//! Fair play for trainers, one scenario a test: each is an attack that paid before sealed
//! submissions, hidden evaluation shards and the baseline rule, or a bad input to their messages.

use arena_types::market::commitment::{model_commitment, UNUSABLE_SHARD};
use arena_types::market::msg::{ExecuteMsg, ReceiveMsg, SubmissionStatus, TaskParams};
use arena_types::market::phase::Phase;
use cosmwasm_std::{Addr, HexBinary, Uint128};

use super::helpers::*;
use crate::ContractError;

/// Every assigned validator commits and reveals `score` (baseline 0) on each submission given.
fn score_all(suite: &mut Suite, task: u64, start: u64, round: u32, scores: &[(u64, u32)]) {
    suite.advance_to(at(start, round, COMMIT));
    suite.assign(task, None).unwrap();
    for (id, score) in scores {
        for v in suite.assigned_validators(task, *id) {
            suite.commit(&v, task, *id, *score).unwrap();
        }
    }
    suite.advance_to(at(start, round, REVEAL));
    for (id, score) in scores {
        for v in suite.assigned_validators(task, *id) {
            suite.reveal(&v, task, *id, *score).unwrap();
        }
    }
    suite.advance_to(at(start, round, END));
    suite.finalize_all(task, round, 50);
    suite.assert_books_balance(task);
}

/// Copying the previous round's winner: the file is public once revealed, but its hash belongs to
/// the trainer that revealed it first; the copy gets no validators and no reward.
#[test]
fn last_rounds_winner_copied_is_a_duplicate_and_earns_nothing() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 3, 3);
    let winner = suite.submit(&ts[0], task, 1).unwrap();
    suite.submit(&ts[1], task, 2).unwrap();
    score_all(&mut suite, task, start, 1, &[(winner, 900_000), (2, 500_000)]);
    assert_eq!(suite.submission(task, winner).rank, Some(0));

    // Round 2: the copier seals the winner's hash; the winner resubmits its own model, which is
    // allowed (it is still its work).
    let copy = suite.submit(&ts[2], task, 1).unwrap();
    let own_again = suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 2, COMMIT));
    let copied = suite.submission(task, copy);
    assert_eq!(copied.status, SubmissionStatus::Duplicate);
    assert_eq!(suite.submission(task, own_again).status, SubmissionStatus::Pending);
    suite.assign(task, None).unwrap();
    assert!(suite.assigned_validators(task, copy).is_empty(), "a duplicate has nothing to score");
    for v in suite.assigned_validators(task, own_again) {
        suite.commit(&v, task, own_again, 900_000).unwrap();
    }
    suite.advance_to(at(start, 2, REVEAL));
    for v in suite.assigned_validators(task, own_again) {
        suite.reveal(&v, task, own_again, 900_000).unwrap();
    }
    suite.advance_to(at(start, 2, END));
    suite.finalize_all(task, 2, 50);
    let copied = suite.submission(task, copy);
    assert_eq!((copied.status, copied.reward), (SubmissionStatus::Duplicate, Uint128::zero()));
    assert!(suite.submission(task, own_again).reward.u128() > 0);
    suite.assert_books_balance(task);
}

/// Two trainers reveal the same hash in one round (a leak, or collusion): the earlier commitment
/// keeps it whatever the order of the reveals, so racing to reveal first gains nothing.
#[test]
fn within_a_round_the_earliest_commitment_keeps_the_model() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 2, 3);
    let early = suite.submit_unrevealed(&ts[0], task, 7).unwrap();
    let late = suite.submit_unrevealed(&ts[1], task, 7).unwrap();
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    let res = suite.reveal_model(&ts[1], task, 7).unwrap();
    assert!(res.events.iter().flat_map(|e| &e.attributes).all(|a| a.key != "duplicate_of"));
    let res = suite.reveal_model(&ts[0], task, 7).unwrap();
    assert_eq!(attr(&res, "duplicate"), late.to_string());
    assert_eq!(suite.submission(task, early).status, SubmissionStatus::Pending);
    assert_eq!(suite.submission(task, late).status, SubmissionStatus::Duplicate);
    assert!([early, late].iter().all(|id| suite.submission(task, *id).model.is_some()));
}

/// A sealed commitment copied byte for byte is useless: it binds the trainer's address, so the
/// copier cannot open it even after the original is revealed with its salt.
#[test]
fn a_copied_commitment_cannot_be_opened_by_the_copier() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 2, 3);
    let original = suite.submit_unrevealed(&ts[0], task, 4).unwrap();
    let commitment = suite.submission(task, original).commitment;
    let copy_msg = ExecuteMsg::Submit { task_id: task, commitment };
    let res = suite.execute(&ts[1], &copy_msg).unwrap();
    let copy: u64 = attr(&res, "submission_id").parse().unwrap();
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    suite.reveal_model(&ts[0], task, 4).unwrap();
    // The original's hash and salt, now public, from the copier's address.
    let err = suite.execute(&ts[1], &reveal_model_msg(task, 4, &model_salt(&ts[0], 1))).unwrap_err();
    assert!(matches!(err, ContractError::ModelCommitmentMismatch { submission_id, .. } if submission_id == copy));
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    assert_eq!(suite.submission(task, copy).status, SubmissionStatus::Unrevealed);
}

/// A model never revealed forfeits the round: no validators are spent on it, nobody is slashed for
/// it, and it is paid nothing.
#[test]
fn an_unrevealed_commitment_forfeits_the_round() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 2, 3);
    let hidden = suite.submit_unrevealed(&ts[0], task, 3).unwrap();
    let shown = suite.submit(&ts[1], task, 4).unwrap();
    score_all(&mut suite, task, start, 1, &[(shown, 700_000)]);
    let s = suite.submission(task, hidden);
    assert_eq!((s.status, s.reward, s.assigned, s.model), (SubmissionStatus::Unrevealed, Uint128::zero(), false, None));
    assert!(suite.slash_events(task).events.is_empty());
    assert_eq!(suite.submission(task, shown).status, SubmissionStatus::Scored);
}

#[test]
fn a_model_reveal_is_checked_against_its_commitment_and_phase() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 2, 3);
    let id = suite.submit_unrevealed(&ts[0], task, 5).unwrap();
    let salt = model_salt(&ts[0], 1);
    // Still in the submission phase.
    let err = suite.execute(&ts[0], &reveal_model_msg(task, 5, &salt)).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::ModelReveal, actual: Phase::Submission });
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    // A wrong salt, a wrong model hash.
    let err = suite.execute(&ts[0], &reveal_model_msg(task, 5, &[0u8; 32])).unwrap_err();
    assert!(matches!(err, ContractError::ModelCommitmentMismatch { submission_id, .. } if submission_id == id));
    let err = suite.execute(&ts[0], &reveal_model_msg(task, 6, &salt)).unwrap_err();
    assert!(matches!(err, ContractError::ModelCommitmentMismatch { .. }));
    // A short salt; no submission at all; a validator.
    let mut short = reveal_model_msg(task, 5, &salt);
    if let ExecuteMsg::RevealModel { salt, .. } = &mut short {
        *salt = HexBinary::from([1u8; 31]);
    }
    assert_eq!(suite.execute(&ts[0], &short).unwrap_err(), ContractError::BadLength { field: "salt", len: 31 });
    let err = suite.execute(&ts[1], &reveal_model_msg(task, 5, &salt)).unwrap_err();
    assert_eq!(err, ContractError::NothingToReveal { trainer: ts[1].clone(), round: 1 });
    let err = suite.execute(&vs[0], &reveal_model_msg(task, 5, &salt)).unwrap_err();
    assert_eq!(err, ContractError::NothingToReveal { trainer: vs[0].clone(), round: 1 });
    // The right one, then its replay.
    suite.execute(&ts[0], &reveal_model_msg(task, 5, &salt)).unwrap();
    let err = suite.execute(&ts[0], &reveal_model_msg(task, 5, &salt)).unwrap_err();
    assert_eq!(err, ContractError::ModelAlreadyRevealed { submission_id: id });
    // After the phase.
    suite.advance_to(at(start, 1, COMMIT));
    let err = suite.execute(&ts[0], &reveal_model_msg(task, 5, &salt)).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::ModelReveal, actual: Phase::Commit });
    // A sealed submission is refused outside its phase, and a short commitment always.
    let late = ExecuteMsg::Submit { task_id: task, commitment: HexBinary::from([1u8; 32]) };
    let err = suite.execute(&ts[1], &late).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::Submission, actual: Phase::Commit });
    suite.advance_to(at(start, 2, SUBMIT));
    let short = ExecuteMsg::Submit { task_id: task, commitment: HexBinary::from([1u8; 20]) };
    assert_eq!(suite.execute(&ts[1], &short).unwrap_err(), ContractError::BadLength { field: "commitment", len: 20 });
}

/// The commitment is the documented hash: a trainer (or an auditor) computes it off chain.
#[test]
fn the_sealed_commitment_is_the_documented_hash() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let id = suite.submit_unrevealed(&ts[0], task, 8).unwrap();
    let expected = model_commitment(task, 1, ts[0].as_str(), &[8u8; 32], &model_salt(&ts[0], 1));
    assert_eq!(suite.submission(task, id).commitment, HexBinary::from(expected));
}

/// Training on the test: the shard of a round is locked until its commit phase. The key is refused
/// before then (while models could still change), checked against its committed hash, taken once,
/// and refused after its deadline.
#[test]
fn an_evaluation_key_is_taken_only_in_its_window_and_only_if_it_matches() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 3);
    suite.reveal_keys = false;
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    let err = suite.reveal_key(task, 1).unwrap_err();
    let opens_at = at(start, 1, COMMIT);
    assert_eq!(err, ContractError::KeyTooEarly { round: 1, opens_at, now: at(start, 1, MODEL_REVEAL) });
    suite.advance_to(at(start, 1, COMMIT));
    let creator = suite.addr("creator");
    let wrong = ExecuteMsg::RevealEvaluationKey { task_id: task, round: 1, key: HexBinary::from(evaluation_key(2)) };
    assert!(matches!(suite.execute(&creator, &wrong).unwrap_err(), ContractError::KeyMismatch { round: 1, .. }));
    let short = ExecuteMsg::RevealEvaluationKey { task_id: task, round: 1, key: HexBinary::from([1u8; 16]) };
    assert_eq!(suite.execute(&creator, &short).unwrap_err(), ContractError::BadLength { field: "key", len: 16 });
    let unknown = ExecuteMsg::RevealEvaluationKey { task_id: task, round: 9, key: HexBinary::from([1u8; 32]) };
    assert!(matches!(suite.execute(&creator, &unknown).unwrap_err(), ContractError::UnknownRound { round: 9, .. }));
    // Anyone holding the key may send it: the hash is the proof.
    let stranger = suite.addr("delegator0");
    let right = ExecuteMsg::RevealEvaluationKey { task_id: task, round: 1, key: HexBinary::from(evaluation_key(1)) };
    suite.execute(&stranger, &right).unwrap();
    assert_eq!(suite.round(task, 1).evaluation_key, Some(HexBinary::from(evaluation_key(1))));
    assert_eq!(suite.execute(&creator, &right).unwrap_err(), ContractError::KeyAlreadyRevealed { round: 1 });
    // Round 2's key, past its deadline (half-way through round 2's commit phase).
    suite.advance_to(at(start, 2, COMMIT) + 2);
    let err = suite.reveal_key(task, 2).unwrap_err();
    let deadline = at(start, 2, COMMIT) + 2;
    assert_eq!(err, ContractError::KeyTooLate { round: 2, deadline, now: deadline });
}

/// A creator that withholds a round's key voids the round: nobody is scored or slashed (no
/// validator could score), the emission stays in the pool for the next rounds, and the creator's
/// bond pays the round's trainers pro rata of their stakes. Nothing is stuck: the books balance
/// and the creator reclaims what is left.
#[test]
fn a_missing_key_voids_the_round_and_its_bond_share_pays_the_trainers() {
    let mut params = default_params();
    params.rounds = 2;
    let (mut suite, task, start, ts, vs) = running_task(params, 3, 3);
    suite.stake(&ts[1], task, arena_types::market::msg::Role::Trainer, 1_000).unwrap();
    suite.reveal_keys = false;
    let a = suite.submit(&ts[0], task, 1).unwrap();
    let b = suite.submit(&ts[1], task, 2).unwrap();
    let hidden = suite.submit_unrevealed(&ts[2], task, 3).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    // Sampling may start before the deadline (validators then wait for the key)...
    suite.assign(task, None).unwrap();
    // ...but once the deadline passes without a key the round is void: no commits.
    suite.advance_to(at(start, 1, COMMIT) + 2);
    let v = suite.assigned_validators(task, a)[0].clone();
    let err = suite.commit(&v, task, a, 500_000).unwrap_err();
    assert_eq!(err, ContractError::RoundVoid { round: 1, deadline: at(start, 1, COMMIT) + 2 });
    suite.advance_to(at(start, 1, END));
    let pool_before = suite.task(task).accounts.pool;
    suite.finalize_all(task, 1, 2);
    let r1 = suite.round(task, 1);
    assert!(r1.void);
    assert_eq!(r1.emission, Uint128::zero());
    // Bond 30_000 over 2 rounds: 15_000, paid 1_000 : 2_000 by the trainers' frozen stakes.
    assert_eq!(r1.bond_forfeit.u128(), 15_000);
    assert_eq!(suite.submission(task, a).reward.u128(), 5_000);
    assert_eq!(suite.submission(task, b).reward.u128(), 10_000);
    assert_eq!(suite.submission(task, a).status, SubmissionStatus::Void);
    assert_eq!(suite.submission(task, hidden).status, SubmissionStatus::Unrevealed);
    assert_eq!(suite.submission(task, a).rank, None);
    assert!(suite.slash_events(task).events.is_empty(), "nobody could score: nobody is slashed");
    assert_eq!(suite.task(task).accounts.pool, pool_before, "the void round's emission stays in the pool");
    for validator in &vs {
        assert_eq!(suite.rewards(validator), 0);
    }
    suite.assert_books_balance(task);

    // Round 2 runs normally and takes the whole pool left (its emission is pool / 1).
    suite.reveal_keys = true;
    let c = suite.submit(&ts[0], task, 9).unwrap();
    score_all(&mut suite, task, start, 2, &[(c, 600_000)]);
    let accounts = suite.task(task).accounts;
    assert_eq!((accounts.bond.u128(), accounts.bond_forfeited.u128()), (15_000, 15_000));
    let creator = suite.addr("creator");
    let before = suite.balance(&creator);
    let leftover = accounts.pool + accounts.bond;
    suite.execute(&creator, &ExecuteMsg::ReclaimPool { task_id: task }).unwrap();
    assert_eq!(suite.balance(&creator), before + leftover.u128());
    suite.assert_books_balance(task);
}

#[test]
fn a_task_needs_a_bond_of_at_least_its_pool() {
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    let mut params = default_params();
    params.evaluation = shards(3);
    params.creator_bond = Uint128::new(10_000);
    let create = ReceiveMsg::CreateTask(params.clone());
    // 10_000 sent is all bond, no pool; 25_000 leaves a pool of 15_000, above the bond.
    let err = suite.send(&creator, 10_000, &create).unwrap_err();
    assert_eq!(err, ContractError::BondNotCovered { bond: Uint128::new(10_000), sent: Uint128::new(10_000) });
    let err = suite.send(&creator, 25_000, &create).unwrap_err();
    assert_eq!(err, ContractError::BondBelowPool { bond: Uint128::new(10_000), pool: Uint128::new(15_000) });
    let res = suite.send(&creator, 20_000, &create).unwrap();
    let task: u64 = attr(&res, "task_id").parse().unwrap();
    let accounts = suite.task(task).accounts;
    assert_eq!((accounts.pool.u128(), accounts.bond.u128()), (10_000, 10_000));
    // The shards come back in the task's parameters, one per round.
    assert_eq!(suite.task(task).params.evaluation, shards(3));
}

/// No pay for no skill: a model that does not beat the round's baseline (what a majority-class
/// guess scores, as the validators measured it) earns nothing, however it ranks.
#[test]
fn a_model_that_does_not_beat_the_baseline_earns_nothing() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 2, 3);
    let strong = suite.submit(&ts[0], task, 1).unwrap();
    let weak = suite.submit(&ts[1], task, 2).unwrap();
    let baseline = 100_000; // ten balanced classes
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let plays = [(strong, 900_000), (weak, 100_000)];
    for (id, score) in plays {
        for v in suite.assigned_validators(task, id) {
            suite.commit_with_baseline(&v, task, id, score, baseline).unwrap();
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (id, score) in plays {
        for (i, v) in suite.assigned_validators(task, id).iter().enumerate() {
            // A baseline revealed differently from its commitment does not open it.
            if i == 0 {
                let err = suite.reveal_with_baseline(v, task, id, score, baseline + 1).unwrap_err();
                assert!(matches!(err, ContractError::CommitmentMismatch { .. }));
            }
            suite.reveal_with_baseline(v, task, id, score, baseline).unwrap();
        }
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let w = suite.submission(task, weak);
    assert_eq!((w.status, w.baseline, w.reward), (SubmissionStatus::BelowBaseline, Some(baseline), Uint128::zero()));
    let s = suite.submission(task, strong);
    assert_eq!((s.status, s.rank), (SubmissionStatus::Scored, Some(0)));
    // The whole trainer budget goes to the model that beat the baseline.
    assert_eq!(s.reward, suite.round(task, 1).trainer_budget);
    suite.assert_books_balance(task);
}

/// The baseline is a consensus too: one validator lying about it cannot push a model under it.
#[test]
fn one_lying_validator_cannot_move_the_baseline() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 1, 3);
    let id = suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let validators = suite.assigned_validators(task, id);
    let baseline_of = |v: &Addr| if *v == validators[0] { 990_000 } else { 100_000 };
    for v in &validators {
        suite.commit_with_baseline(v, task, id, 600_000, baseline_of(v)).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for v in &validators {
        suite.reveal_with_baseline(v, task, id, 600_000, baseline_of(v)).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let s = suite.submission(task, id);
    assert_eq!((s.status, s.baseline), (SubmissionStatus::Scored, Some(100_000)));
}

/// With the rule off, a model scoring no better than the baseline is ranked and paid as before.
#[test]
fn the_baseline_rule_can_be_turned_off() {
    let params = TaskParams { beat_baseline: false, ..default_params() };
    let (mut suite, task, start, ts, _vs) = running_task(params, 1, 3);
    let id = suite.submit(&ts[0], task, 1).unwrap();
    score_all(&mut suite, task, start, 1, &[(id, 0)]);
    let s = suite.submission(task, id);
    assert_eq!((s.status, s.baseline), (SubmissionStatus::Scored, Some(0)));
    assert!(s.reward.u128() > 0);
}

/// A creator that publishes a shard nobody can use (it does not decrypt, or not to the committed
/// hash) cannot get the validators slashed for staying silent, to the benefit of the pool it
/// reclaims: they reveal the agreed marker instead, and the round is void as with a missing key,
/// paying its emission and the bond share.
#[test]
fn an_unusable_shard_voids_the_round_instead_of_slashing_the_validators() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 2, 3);
    suite.stake(&ts[1], task, arena_types::market::msg::Role::Trainer, 1_000).unwrap();
    let a = suite.submit(&ts[0], task, 1).unwrap();
    let b = suite.submit(&ts[1], task, 2).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for id in [a, b] {
        for v in suite.assigned_validators(task, id) {
            suite.commit_with_baseline(&v, task, id, 0, UNUSABLE_SHARD).unwrap();
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    let v = suite.assigned_validators(task, a)[0].clone();
    // Any other value above the score range is refused.
    let err = suite.reveal_with_baseline(&v, task, a, 0, 1_000_001).unwrap_err();
    assert_eq!(err, ContractError::ScoreOutOfRange { score: 1_000_001, max: 1_000_000 });
    for id in [a, b] {
        for v in suite.assigned_validators(task, id) {
            suite.reveal_with_baseline(&v, task, id, 0, UNUSABLE_SHARD).unwrap();
        }
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 1);
    let r1 = suite.round(task, 1);
    assert!(r1.void);
    assert_eq!(r1.bond_forfeit.u128(), 10_000, "bond 30_000 over 3 rounds");
    assert!(suite.slash_events(task).events.is_empty());
    for id in [a, b] {
        assert_eq!(suite.submission(task, id).status, SubmissionStatus::Void);
    }
    // The trainers share the emission's trainer part and the forfeit, 1 : 2 by stake, to the
    // unit of rounding.
    let budget = r1.trainer_budget.u128();
    assert!(budget > 10_000 && r1.emission.u128() == 10_000, "the emission was split as usual");
    let (ra, rb) = (suite.submission(task, a).reward.u128(), suite.submission(task, b).reward.u128());
    assert!(rb >= 2 * ra && rb <= 2 * ra + 1, "{ra} : {rb}");
    assert!(ra + rb <= budget && ra + rb + 2 >= budget, "{ra} + {rb} of {budget}");
    // The validators did their part: they are paid, not slashed.
    assert!(vs.iter().map(|v| suite.rewards(v)).sum::<u128>() > 0);
    suite.assert_books_balance(task);
}
