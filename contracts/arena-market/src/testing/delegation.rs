//! Delegation: effective stake, the operator/delegator split with commission, commission
//! rules, undelegation and withdrawal. Expected amounts are worked out in the comments from the
//! formulas of docs/design.md ("Rewards").

use arena_types::market::msg::ExecuteMsg;
use cosmwasm_std::{Addr, Decimal, Uint128};

use super::helpers::*;
use crate::ContractError;

/// Runs round 1 with one submission that every validator scores 800_000, then finalizes it.
fn play_round_one(suite: &mut Suite, task: u64, start: u64, trainer: &Addr, vs: &[Addr]) {
    suite.submit(trainer, task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for v in vs {
        suite.commit(v, task, 1, 800_000).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for v in vs {
        suite.reveal(v, task, 1, 800_000).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    suite.assert_books_balance(task);
}

#[test]
fn a_validators_delegator_gets_its_part_less_commission() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    let d0 = suite.addr("delegator0");
    let set = ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(10) };
    suite.execute(&vs[0], &set).unwrap();
    suite.delegate(&d0, task, &vs[0], 1_000).unwrap();
    // S_v0 = 1_000 + 0.5 * 1_000 = 1_500.
    assert_eq!(suite.participant(task, &vs[0]).effective.u128(), 1_500);
    play_round_one(&mut suite, task, start, &ts[0], &vs);
    // T = 1_000, S = 3_500: R_v = floor(10_000 * (0.1 * 4_500 + 0.8 * 3_500) / 4_500) = 7_222.
    assert_eq!(suite.round(task, 1).validator_budget.u128(), 7_222);
    // v0: floor(7_222 * 1_500 / 3_500) = 3_095; part due to delegation floor(3_095 * 500 /
    // 1_500) = 1_031; delegators get floor(1_031 * 0.9) = 927; v0 keeps 2_168.
    assert_eq!(suite.rewards(&vs[0]), 2_168);
    assert_eq!(suite.delegation(task, &d0, &vs[0]).pending_rewards.u128(), 927);
    // v1, v2: floor(7_222 * 1_000 / 3_500) = 2_063 each; the trainer gets R_t = 2_778.
    assert_eq!(suite.rewards(&vs[1]), 2_063);
    assert_eq!(suite.rewards(&ts[0]), 2_778);
    // The delegator moves its rewards to its balance, then claims them in cw20.
    suite.execute(&d0, &ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: vs[0].to_string() }).unwrap();
    assert_eq!(suite.rewards(&d0), 927);
    let before = suite.balance(&d0);
    suite.claim(&d0).unwrap();
    assert_eq!(suite.balance(&d0), before + 927);
    assert_eq!(suite.delegation(task, &d0, &vs[0]).pending_rewards, Uint128::zero());
}

#[test]
fn a_trainers_delegators_share_pro_rata() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    let (d0, d1) = (suite.addr("delegator0"), suite.addr("delegator1"));
    suite.delegate(&d0, task, &ts[0], 1_000).unwrap();
    suite.delegate(&d1, task, &ts[0], 3_000).unwrap();
    // T = 1_000 + 0.5 * 4_000 = 3_000 = S.
    assert_eq!(suite.task(task).trainer_stake.u128(), 3_000);
    play_round_one(&mut suite, task, start, &ts[0], &vs);
    // R_v = 10_000 * (0.1 + 0.8 / 2) = 5_000; R_t = 5_000, all to the only submission.
    // Due to delegation floor(5_000 * 2_000 / 3_000) = 3_333, commission 0: index 3_333/4_000.
    assert_eq!(suite.rewards(&ts[0]), 1_667);
    assert_eq!(suite.delegation(task, &d0, &ts[0]).pending_rewards.u128(), 833);
    assert_eq!(suite.delegation(task, &d1, &ts[0]).pending_rewards.u128(), 2_499);
    for v in &vs {
        assert_eq!(suite.rewards(v), 1_666);
    }
}

#[test]
fn undelegated_stake_waits_out_the_delay() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let d0 = suite.addr("delegator0");
    suite.delegate(&d0, task, &ts[0], 1_000).unwrap();
    suite
        .execute(&d0, &ExecuteMsg::Undelegate { task_id: task, operator: ts[0].to_string(), amount: Uint128::new(400) })
        .unwrap();
    assert_eq!(suite.participant(task, &ts[0]).delegated.u128(), 600);
    assert_eq!(suite.task(task).trainer_stake.u128(), 1_300);
    let withdraw = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: Some(ts[0].to_string()) };
    let release_at = suite.height() + END;
    assert_eq!(
        suite.execute(&d0, &withdraw).unwrap_err(),
        ContractError::UnbondingNotFinished { release_at, now: suite.height() }
    );
    suite.advance_blocks(END);
    let before = suite.balance(&d0);
    suite.execute(&d0, &withdraw).unwrap();
    assert_eq!(suite.balance(&d0), before + 400);
    suite.assert_books_balance(task);
}

#[test]
fn delegating_to_yourself_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let err = suite.delegate(&ts[0], task, &ts[0], 500).unwrap_err();
    assert_eq!(err, ContractError::SelfDelegation {});
}

#[test]
fn delegating_to_a_non_participant_fails() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 0, 0);
    let (d0, d1) = (suite.addr("delegator0"), suite.addr("delegator1"));
    let err = suite.delegate(&d0, task, &d1, 500).unwrap_err();
    assert_eq!(err, ContractError::UnknownParticipant { task_id: task, address: d1 });
}

#[test]
fn undelegating_without_a_delegation_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let d0 = suite.addr("delegator0");
    let err = suite
        .execute(&d0, &ExecuteMsg::Undelegate { task_id: task, operator: ts[0].to_string(), amount: Uint128::new(1) })
        .unwrap_err();
    assert_eq!(err, ContractError::UnknownDelegation { task_id: task, address: d0, operator: ts[0].clone() });
}

#[test]
fn commission_above_the_maximum_fails() {
    let (mut suite, task, _start, _ts, vs) = running_task(default_params(), 0, 1);
    let err = suite
        .execute(&vs[0], &ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(51) })
        .unwrap_err();
    assert_eq!(err, ContractError::CommissionTooHigh { max: Decimal::percent(50), got: Decimal::percent(51) });
}

#[test]
fn commission_moves_by_a_bounded_step() {
    let (mut suite, task, _start, _ts, vs) = running_task(default_params(), 0, 1);
    let err = suite
        .execute(&vs[0], &ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(11) })
        .unwrap_err();
    assert_eq!(err, ContractError::CommissionChangeTooLarge { max: Decimal::percent(10), got: Decimal::percent(11) });
}

#[test]
fn commission_changes_once_per_round() {
    let (mut suite, task, start, _ts, vs) = running_task(default_params(), 0, 1);
    let set = |c| ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(c) };
    suite.execute(&vs[0], &set(5)).unwrap();
    let err = suite.execute(&vs[0], &set(10)).unwrap_err();
    assert_eq!(err, ContractError::CommissionChangeTooSoon { round: 1 });
    suite.advance_to(at(start, 2, SUBMIT));
    suite.execute(&vs[0], &set(10)).unwrap();
    assert_eq!(suite.participant(task, &vs[0]).commission, Decimal::percent(10));
}

#[test]
fn only_the_delegator_withdraws_its_rewards() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let d0 = suite.addr("delegator0");
    suite.delegate(&d0, task, &ts[0], 1_000).unwrap();
    // No round was paid yet: nothing accrued.
    let err = suite
        .execute(&d0, &ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: ts[0].to_string() })
        .unwrap_err();
    assert_eq!(err, ContractError::NothingToClaim {});
}
