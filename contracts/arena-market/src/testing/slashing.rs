//! Liveness and outlier slashing, dissent, quorum failure and the minimum score.
//! Three validators and k = 3, so every validator is assigned to every submission.

use arena_types::market::median::Standing;
use arena_types::market::msg::{ExecuteMsg, SlashReason, SubmissionStatus};
use cosmwasm_std::{Addr, Uint128};

use super::helpers::*;

/// One submission in round 1, reveals as given (`None`: commits but never reveals), then the
/// round is finalized. Returns the suite, task, trainer and validators.
fn round_with(
    params: arena_types::market::msg::TaskParams,
    scores: [Option<u32>; 3],
    commit_all: bool,
) -> (Suite, u64, Addr, Vec<Addr>) {
    let (mut suite, task, start, ts, vs) = running_task(params, 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for (v, s) in vs.iter().zip(scores) {
        if s.is_some() || commit_all {
            suite.commit(v, task, 1, s.unwrap_or(0)).unwrap();
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (v, s) in vs.iter().zip(scores) {
        if let Some(s) = s {
            suite.reveal(v, task, 1, s).unwrap();
        }
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    suite.assert_books_balance(task);
    (suite, task, ts[0].clone(), vs)
}

#[test]
fn a_committed_but_unrevealed_score_costs_the_liveness_share() {
    let (suite, task, _t, vs) = round_with(default_params(), [Some(800_000), Some(800_000), None], true);
    // 10% of 1_000 own stake.
    assert_eq!(suite.participant(task, &vs[2]).own.u128(), 900);
    assert_eq!(suite.participant(task, &vs[2]).slashed.u128(), 100);
    let events = suite.slash_events(task).events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].validator, vs[2]);
    assert_eq!(events[0].reason, SlashReason::Liveness);
    assert_eq!(events[0].amount.u128(), 100);
    assert_eq!(suite.task(task).accounts.slashed.u128(), 100);
    // The slash went back to the pool: 20_000 left after round 1, plus 100, plus dust.
    assert!(suite.task(task).accounts.pool.u128() >= 20_100);
    assert_eq!(suite.rewards(&vs[2]), 0);
}

#[test]
fn no_commit_at_all_costs_the_liveness_share_too() {
    let (suite, task, _t, vs) = round_with(default_params(), [Some(800_000), Some(800_000), None], false);
    assert_eq!(suite.participant(task, &vs[2]).own.u128(), 900);
    assert_eq!(suite.slash_events(task).events[0].reason, SlashReason::Liveness);
}

#[test]
fn an_outlier_loses_the_outlier_share_and_earns_nothing() {
    let (suite, task, _t, vs) = round_with(default_params(), [Some(800_000), Some(800_000), Some(100_000)], true);
    // Lower median of 100k, 800k, 800k with equal weights: 800k.
    assert_eq!(suite.submission(task, 1).consensus, Some(800_000));
    let a = suite.assignments(task, 1).assignments;
    let outlier = a.iter().find(|a| a.validator == vs[2]).unwrap();
    assert_eq!(outlier.standing, Some(Standing::Outlier));
    assert_eq!(outlier.slashed.u128(), 200);
    assert_eq!(suite.participant(task, &vs[2]).own.u128(), 800);
    assert_eq!(suite.slash_events(task).events[0].reason, SlashReason::Outlier);
    assert_eq!(suite.rewards(&vs[2]), 0);
    // The two in consensus split the validators' budget.
    assert_eq!(suite.rewards(&vs[0]), suite.rewards(&vs[1]));
    assert!(suite.rewards(&vs[0]) > 0);
}

#[test]
fn a_dissenting_reveal_is_neither_paid_nor_slashed() {
    // 850k is 50k from consensus: beyond tau (20k), within the outlier bound (100k).
    let (suite, task, _t, vs) = round_with(default_params(), [Some(800_000), Some(800_000), Some(850_000)], true);
    let a = suite.assignments(task, 1).assignments;
    let dissent = a.iter().find(|a| a.validator == vs[2]).unwrap();
    assert_eq!(dissent.standing, Some(Standing::Dissenting));
    assert_eq!(dissent.slashed, Uint128::zero());
    assert_eq!(suite.participant(task, &vs[2]).own.u128(), 1_000);
    assert_eq!(suite.rewards(&vs[2]), 0);
    assert!(suite.slash_events(task).events.is_empty());
}

#[test]
fn below_quorum_the_submission_is_unscored_and_its_trainer_unharmed() {
    // One of three equal validators reveals: 1_000 < 50% of 3_000.
    let (suite, task, trainer, vs) = round_with(default_params(), [Some(800_000), None, None], true);
    let sub = suite.submission(task, 1);
    assert_eq!(sub.status, SubmissionStatus::Unscored);
    assert_eq!(sub.consensus, None);
    assert_eq!(sub.reward, Uint128::zero());
    assert_eq!(suite.rewards(&trainer), 0);
    assert_eq!(suite.participant(task, &trainer).own.u128(), 1_000);
    // The two silent validators are still slashed for liveness; the one who revealed is not.
    assert_eq!(suite.participant(task, &vs[0]).own.u128(), 1_000);
    assert_eq!(suite.participant(task, &vs[1]).own.u128(), 900);
    assert_eq!(suite.participant(task, &vs[2]).own.u128(), 900);
    // No one is paid: the emission comes back whole (plus the slashes).
    assert_eq!(suite.task(task).accounts.pool.u128(), 30_000 + 200);
}

#[test]
fn a_score_under_the_minimum_earns_the_trainer_nothing() {
    let mut params = default_params();
    params.min_score = 900_000;
    let (suite, task, trainer, vs) = round_with(params, [Some(800_000), Some(800_000), Some(800_000)], true);
    assert_eq!(suite.submission(task, 1).status, SubmissionStatus::BelowMinScore);
    assert_eq!(suite.rewards(&trainer), 0);
    // Validators in consensus are still paid for their work.
    assert!(suite.rewards(&vs[0]) > 0);
}

#[test]
fn unbonding_stake_stays_slashable() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for v in &vs {
        suite.commit(v, task, 1, 700_000).unwrap();
    }
    // vs[2] unbonds everything and never reveals.
    suite.execute(&vs[2], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_000) }).unwrap();
    suite.advance_to(at(start, 1, REVEAL));
    suite.reveal(&vs[0], task, 1, 700_000).unwrap();
    suite.reveal(&vs[1], task, 1, 700_000).unwrap();
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let p = suite.participant(task, &vs[2]);
    assert_eq!(p.own.u128(), 0);
    assert_eq!(p.unbonding.u128(), 900);
    assert_eq!(p.slashed.u128(), 100);
    suite.assert_books_balance(task);
}

#[test]
fn slashings_count_against_the_finalization_page() {
    // Ten submissions that no validator scores: each of the three is slashed for liveness on all ten.
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 10, 3);
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    suite.advance_to(at(start, 1, END));
    // Each submission: 1 item + 3 slashings; the first slashing of each validator in a call
    // counts 2 more. Budget 10: the first submission costs 1 + 3 + 3 * 2 = 10.
    let res = suite.finalize(task, 1, Some(10)).unwrap();
    assert_eq!((attr(&res, "processed"), attr(&res, "stage")), ("1".into(), "score".into()));
    // Budget 13: 10 for the second submission, then a third (4) overruns it rather than stop inside it.
    let res = suite.finalize(task, 1, Some(13)).unwrap();
    assert_eq!(attr(&res, "processed"), "2");
    // Each validator's stake was written once per call, whatever it lost in it: three times 10%.
    let p = suite.participant(task, &vs[2]);
    assert_eq!((p.own.u128(), p.slashed.u128()), (729, 271));
    assert_eq!(suite.slash_events(task).events.len(), 9);
    suite.finalize_all(task, 1, 50);
    suite.assert_books_balance(task);
    assert_eq!(suite.slash_events(task).events.len(), 30);
}
