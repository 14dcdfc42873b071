//! Each kind of bad input, its own test, its own error.

use arena_types::market::msg::{ExecuteMsg, ReceiveMsg, Role, TaskParams};
use arena_types::market::params::ParamError;
use arena_types::market::phase::Phase;
use cosmwasm_std::{to_json_binary, Decimal, HexBinary, Uint128};
use cw20::Cw20ReceiveMsg;
use cw_multi_test::Executor;

use super::helpers::*;
use crate::ContractError;

/// A task with 2 trainers and 3 validators (k = 3), one submission assigned, in the commit phase.
fn committing() -> (Suite, u64, u64, Vec<cosmwasm_std::Addr>, Vec<cosmwasm_std::Addr>) {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 2, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    (suite, task, start, ts, vs)
}

#[test]
fn submitting_outside_the_submission_phase_fails() {
    let (mut suite, task, _start, ts, _vs) = committing();
    let err = suite.submit(&ts[1], task, 2).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::Submission, actual: Phase::Commit });
}

#[test]
fn committing_outside_the_commit_phase_fails() {
    let (mut suite, task, start, _ts, vs) = committing();
    suite.advance_to(at(start, 1, REVEAL));
    let err = suite.commit(&vs[0], task, 1, 500_000).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::Commit, actual: Phase::Reveal });
}

#[test]
fn revealing_in_the_commit_phase_fails() {
    let (mut suite, task, _start, _ts, vs) = committing();
    suite.commit(&vs[0], task, 1, 500_000).unwrap();
    let err = suite.reveal(&vs[0], task, 1, 500_000).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::Reveal, actual: Phase::Commit });
}

#[test]
fn assigning_outside_the_commit_phase_fails() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 1, 3);
    let err = suite.assign(task, None).unwrap_err();
    assert_eq!(err, ContractError::WrongPhase { round: 1, expected: Phase::Commit, actual: Phase::Submission });
}

#[test]
fn only_the_admin_pauses() {
    let (mut suite, _task, _start, ts, _vs) = running_task(default_params(), 1, 1);
    let err = suite.execute(&ts[0], &ExecuteMsg::SetPaused { paused: true }).unwrap_err();
    assert_eq!(err, ContractError::Unauthorized { expected: suite.admin.to_string() });
}

#[test]
fn a_paused_market_refuses_every_message_but_the_admins() {
    let (mut suite, task, _start, ts, vs) = running_task(default_params(), 1, 1);
    let admin = suite.admin.clone();
    suite.execute(&admin, &ExecuteMsg::SetPaused { paused: true }).unwrap();
    let hex32 = HexBinary::from([1u8; 32]);
    let op = vs[0].to_string();
    // Every execute message but the admin's three, each from a sender it would otherwise suit.
    let messages = vec![
        ExecuteMsg::Submit { task_id: task, commitment: hex32.clone() },
        reveal_model_msg(task, 1, &[1u8; 32]),
        ExecuteMsg::Assign { task_id: task, limit: None },
        ExecuteMsg::Commit { task_id: task, submission_id: 1, commitment: hex32.clone() },
        ExecuteMsg::Reveal { task_id: task, submission_id: 1, score: 1, baseline: 0, salt: hex32.clone() },
        ExecuteMsg::RevealBeacon { task_id: task, round: 1, value: hex32.clone() },
        ExecuteMsg::RevealEvaluationKey { task_id: task, round: 1, key: hex32 },
        ExecuteMsg::Finalize { task_id: task, round: 1, limit: None },
        ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1) },
        ExecuteMsg::Undelegate { task_id: task, operator: op.clone(), amount: Uint128::new(1) },
        ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None },
        ExecuteMsg::SetCommission { task_id: task, commission: cosmwasm_std::Decimal::percent(1) },
        ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: op.clone() },
        ExecuteMsg::Claim {},
        ExecuteMsg::WithdrawToEvm { evm_recipient: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".into() },
        ExecuteMsg::ReclaimPool { task_id: task },
    ];
    for msg in &messages {
        assert_eq!(suite.execute(&ts[0], msg).unwrap_err(), ContractError::Paused {}, "{msg:?}");
    }
    // And every cw20 hook: stake, delegate, create a task.
    let hooks = [
        ReceiveMsg::Stake { task_id: task, role: Role::Trainer },
        ReceiveMsg::Delegate { task_id: task, operator: op },
        ReceiveMsg::CreateTask(default_params()),
    ];
    for hook in &hooks {
        assert_eq!(suite.send(&ts[0], 100, hook).unwrap_err(), ContractError::Paused {}, "{hook:?}");
    }
    suite.execute(&admin, &ExecuteMsg::SetPaused { paused: false }).unwrap();
    suite.submit(&ts[0], task, 1).unwrap();
}

#[test]
fn a_validator_cannot_submit() {
    let (mut suite, task, _start, _ts, vs) = running_task(default_params(), 1, 1);
    let err = suite.submit(&vs[0], task, 1).unwrap_err();
    assert_eq!(
        err,
        ContractError::WrongRole { address: vs[0].clone(), expected: Role::Trainer, actual: Role::Validator }
    );
}

#[test]
fn a_stranger_cannot_submit() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 1, 1);
    let stranger = suite.addr("delegator0");
    let err = suite.submit(&stranger, task, 1).unwrap_err();
    assert_eq!(err, ContractError::UnknownParticipant { task_id: task, address: stranger });
}

#[test]
fn a_second_submission_in_a_round_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 1);
    suite.submit(&ts[0], task, 1).unwrap();
    let err = suite.submit(&ts[0], task, 2).unwrap_err();
    assert_eq!(err, ContractError::DuplicateSubmission { trainer: ts[0].clone(), round: 1, submission_id: 1 });
}

#[test]
fn a_second_commit_fails() {
    let (mut suite, task, _start, _ts, vs) = committing();
    suite.commit(&vs[0], task, 1, 500_000).unwrap();
    let err = suite.commit(&vs[0], task, 1, 600_000).unwrap_err();
    assert_eq!(err, ContractError::DuplicateCommit { validator: vs[0].clone(), submission_id: 1 });
}

#[test]
fn a_second_reveal_fails() {
    let (mut suite, task, start, _ts, vs) = committing();
    suite.commit(&vs[0], task, 1, 500_000).unwrap();
    suite.advance_to(at(start, 1, REVEAL));
    suite.reveal(&vs[0], task, 1, 500_000).unwrap();
    let err = suite.reveal(&vs[0], task, 1, 500_000).unwrap_err();
    assert_eq!(err, ContractError::DuplicateReveal { validator: vs[0].clone(), submission_id: 1 });
}

#[test]
fn a_reveal_that_does_not_match_its_commit_fails() {
    let (mut suite, task, start, _ts, vs) = committing();
    suite.commit(&vs[0], task, 1, 500_000).unwrap();
    suite.advance_to(at(start, 1, REVEAL));
    let err = suite.reveal(&vs[0], task, 1, 500_001).unwrap_err();
    assert!(matches!(err, ContractError::CommitmentMismatch { .. }), "{err:?}");
}

#[test]
fn a_reveal_without_a_commit_fails() {
    let (mut suite, task, start, _ts, vs) = committing();
    suite.advance_to(at(start, 1, REVEAL));
    let err = suite.reveal(&vs[0], task, 1, 500_000).unwrap_err();
    assert_eq!(err, ContractError::NotCommitted { validator: vs[0].clone(), submission_id: 1 });
}

#[test]
fn an_unassigned_validator_cannot_commit_or_reveal() {
    // 4 validators, k = 3: one of them is left out.
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 4);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let assigned = suite.assigned_validators(task, 1);
    let outsider = vs.iter().find(|v| !assigned.contains(v)).unwrap().clone();
    let err = suite.commit(&outsider, task, 1, 1).unwrap_err();
    let expected = ContractError::NotAssigned { validator: outsider.clone(), submission_id: 1 };
    assert_eq!(err, expected);
    suite.advance_to(at(start, 1, REVEAL));
    assert_eq!(suite.reveal(&outsider, task, 1, 1).unwrap_err(), expected);
}

#[test]
fn a_score_above_the_scale_fails() {
    let (mut suite, task, start, _ts, vs) = committing();
    suite.commit(&vs[0], task, 1, 1_000_001).unwrap();
    suite.advance_to(at(start, 1, REVEAL));
    let err = suite.reveal(&vs[0], task, 1, 1_000_001).unwrap_err();
    assert_eq!(err, ContractError::ScoreOutOfRange { score: 1_000_001, max: 1_000_000 });
}

#[test]
fn a_short_commitment_fails() {
    let (mut suite, task, _start, _ts, vs) = committing();
    let err = suite
        .execute(
            &vs[0],
            &ExecuteMsg::Commit { task_id: task, submission_id: 1, commitment: HexBinary::from([0u8; 31]) },
        )
        .unwrap_err();
    assert_eq!(err, ContractError::BadLength { field: "commitment", len: 31 });
}

#[test]
fn a_stake_below_the_minimum_fails() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 0, 0);
    let who = suite.addr("delegator0");
    let err = suite.stake(&who, task, Role::Validator, 99).unwrap_err();
    assert_eq!(err, ContractError::StakeBelowMinimum { min: Uint128::new(100), got: Uint128::new(99) });
}

#[test]
fn one_role_per_address_per_task() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let err = suite.stake(&ts[0], task, Role::Validator, 500).unwrap_err();
    assert_eq!(err, ContractError::RoleTaken { task_id: task, address: ts[0].clone(), role: Role::Trainer });
}

#[test]
fn tokens_of_another_cw20_are_refused() {
    let mut suite = Suite::new(&["alice"]);
    let alice = suite.addr("alice");
    let code = suite.app.store_code(Box::new(cw_multi_test::ContractWrapper::new(
        arena_token::contract::execute,
        arena_token::contract::instantiate,
        arena_token::contract::query,
    )));
    let fake = suite
        .app
        .instantiate_contract(
            code,
            alice.clone(),
            &arena_token::msg::InstantiateMsg {
                name: "Fake Token".into(),
                symbol: "FAKE".into(),
                decimals: 6,
                initial_balances: vec![cw20::Cw20Coin { address: alice.to_string(), amount: Uint128::new(1_000) }],
                mint: None,
                marketing: None,
            },
            &[],
            "fake",
            None,
        )
        .unwrap();
    let err = suite
        .app
        .execute_contract(
            alice.clone(),
            fake.clone(),
            &cw20::Cw20ExecuteMsg::Send {
                contract: suite.market.to_string(),
                amount: Uint128::new(1_000),
                msg: to_json_binary(&ReceiveMsg::CreateTask(default_params())).unwrap(),
            },
            &[],
        )
        .map_err(contract_err)
        .unwrap_err();
    assert_eq!(err, ContractError::WrongToken { expected: suite.token.clone(), got: fake });
}

/// The token contract itself calling the hook directly with a forged amount.
fn forged_receive(suite: &mut Suite, amount: Uint128, hook: &ReceiveMsg) -> Result<(), ContractError> {
    let token = suite.token.clone();
    let sender = suite.addr("creator");
    suite
        .execute(
            &token,
            &ExecuteMsg::Receive(Cw20ReceiveMsg {
                sender: sender.to_string(),
                amount,
                msg: to_json_binary(hook).unwrap(),
            }),
        )
        .map(|_| ())
}

#[test]
fn a_zero_amount_is_refused() {
    // cw20-base forwards a Send of 0 to the hook: the market must refuse it itself.
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    let err = suite.send(&creator, 0, &ReceiveMsg::CreateTask(default_params())).unwrap_err();
    assert_eq!(err, ContractError::ZeroAmount {});
}

#[test]
fn unbonding_zero_is_refused() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let err = suite.execute(&ts[0], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::zero() }).unwrap_err();
    assert_eq!(err, ContractError::ZeroAmount {});
}

#[test]
fn an_overflowing_amount_is_refused() {
    let mut suite = Suite::new(&["creator"]);
    // A bond of just over half leaves a pool no larger than it.
    let params = TaskParams { creator_bond: Uint128::new(u128::MAX / 2 + 1), ..default_params() };
    forged_receive(&mut suite, Uint128::MAX, &ReceiveMsg::CreateTask(params)).unwrap();
    let err =
        forged_receive(&mut suite, Uint128::MAX, &ReceiveMsg::Stake { task_id: 1, role: Role::Validator }).unwrap_err();
    assert!(matches!(err, ContractError::Overflow(_)), "{err:?}");
}

#[test]
fn an_unknown_task_is_refused() {
    let mut suite = Suite::new(&["alice"]);
    let alice = suite.addr("alice");
    let err = suite.stake(&alice, 7, Role::Trainer, 500).unwrap_err();
    assert_eq!(err, ContractError::UnknownTask { task_id: 7 });
}

#[test]
fn an_unknown_round_is_refused() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 0, 0);
    for round in [0, 4] {
        let err = suite.finalize(task, round, None).unwrap_err();
        assert_eq!(err, ContractError::UnknownRound { task_id: task, round, rounds: 3 });
    }
}

#[test]
fn an_unknown_submission_is_refused() {
    let (mut suite, task, _start, _ts, vs) = committing();
    let err = suite
        .execute(
            &vs[0],
            &ExecuteMsg::Commit { task_id: task, submission_id: 42, commitment: HexBinary::from([0u8; 32]) },
        )
        .unwrap_err();
    assert_eq!(err, ContractError::UnknownSubmission { task_id: task, submission_id: 42 });
}

#[test]
fn finalizing_twice_fails() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 1);
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let err = suite.finalize(task, 1, None).unwrap_err();
    assert_eq!(err, ContractError::AlreadyFinalized { round: 1 });
}

#[test]
fn finalizing_an_open_round_fails() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 1);
    suite.advance_to(at(start, 1, REVEAL));
    let err = suite.finalize(task, 1, None).unwrap_err();
    assert_eq!(
        err,
        ContractError::RoundNotClosed { round: 1, closes_at: at(start, 1, END), now: at(start, 1, REVEAL) }
    );
}

#[test]
fn finalizing_out_of_order_fails() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 1);
    suite.advance_to(at(start, 2, END));
    let err = suite.finalize(task, 2, None).unwrap_err();
    assert_eq!(err, ContractError::FinalizeOutOfOrder { next: 1 });
}

#[test]
fn withdrawing_before_unbonding_ends_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    suite.execute(&ts[0], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_000) }).unwrap();
    let unbonded_at = suite.height();
    suite.advance_blocks(END - 1);
    let withdraw = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None };
    let err = suite.execute(&ts[0], &withdraw).unwrap_err();
    let (release_at, now) = (unbonded_at + END, unbonded_at + END - 1);
    assert_eq!(err, ContractError::UnbondingNotFinished { release_at, now });
    suite.advance_blocks(1);
    let before = suite.balance(&ts[0]);
    suite.execute(&ts[0], &withdraw).unwrap();
    assert_eq!(suite.balance(&ts[0]), before + 1_000);
    assert_eq!(suite.execute(&ts[0], &withdraw).unwrap_err(), ContractError::NothingToWithdraw {});
}

#[test]
fn unbonding_below_the_minimum_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let err = suite.execute(&ts[0], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(901) }).unwrap_err();
    assert_eq!(err, ContractError::StakeBelowMinimum { min: Uint128::new(100), got: Uint128::new(99) });
}

#[test]
fn unbonding_more_than_staked_fails() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let err = suite.execute(&ts[0], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_001) }).unwrap_err();
    assert_eq!(
        err,
        ContractError::InsufficientStake { available: Uint128::new(1_000), requested: Uint128::new(1_001) }
    );
}

#[test]
fn invalid_task_parameters_are_refused_with_the_field() {
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    let mut params = default_params();
    params.q = Decimal::percent(101);
    let err = suite.create_task(&creator, 1_000, params).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::OutOfRange {
            field: "q",
            min: "0.000001".into(),
            max: "1".into(),
            got: "1.01".into()
        })
    );
}

#[test]
fn a_model_revealed_outside_the_model_constraints_fails() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 1, 0);
    suite.submit_unrevealed(&ts[0], task, 9).unwrap();
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    let mut msg = reveal_model_msg(task, 9, &model_salt(&ts[0], 1));
    if let ExecuteMsg::RevealModel { metadata, .. } = &mut msg {
        metadata.parameters = 2_000_000;
    }
    let err = suite.execute(&ts[0], &msg).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::ModelTooLarge { field: "parameters", max: 1_000_000, got: 2_000_000 })
    );
}

#[test]
fn staking_after_the_task_ended_fails() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 0, 0);
    suite.advance_to(at(start, 3, END));
    let who = suite.addr("delegator0");
    let err = suite.stake(&who, task, Role::Trainer, 500).unwrap_err();
    assert_eq!(err, ContractError::TaskEnded { task_id: task, ended_at: at(start, 3, END) });
}

#[test]
fn claiming_nothing_fails() {
    let mut suite = Suite::new(&["alice"]);
    let alice = suite.addr("alice");
    assert_eq!(suite.claim(&alice).unwrap_err(), ContractError::NothingToClaim {});
}

/// Stores `version` as the market's cw2 version, as an older deployment would have.
fn pretend_stored_version(suite: &mut Suite, version: &str) {
    let market = suite.market.clone();
    let mut storage = suite.app.contract_storage_mut(&market);
    cw2::set_contract_version(storage.as_mut(), crate::contract::CONTRACT_NAME, version).unwrap();
}

fn migrate(suite: &mut Suite) -> Result<(), ContractError> {
    let (admin, market) = (suite.admin.clone(), suite.market.clone());
    let code = suite.app.contract_data(&market).unwrap().code_id;
    suite
        .app
        .migrate_contract(admin, market, &arena_types::market::msg::MigrateMsg {}, code)
        .map(|_| ())
        .map_err(contract_err)
}

#[test]
fn migrating_to_the_same_version_keeps_the_tasks() {
    let (mut suite, task, _start, _ts, _vs) = running_task(default_params(), 1, 3);
    let before = suite.task(task);
    migrate(&mut suite).unwrap();
    assert_eq!(suite.task(task), before);
    let stored = cw2::get_contract_version(suite.app.contract_storage(&suite.market.clone()).as_ref()).unwrap();
    assert_eq!(stored.version, crate::contract::CONTRACT_VERSION);
}

#[test]
fn a_downgrade_is_refused() {
    let mut suite = Suite::new(&["alice"]);
    pretend_stored_version(&mut suite, "9.0.0");
    assert_eq!(
        migrate(&mut suite).unwrap_err(),
        ContractError::Migrate(arena_types::migrate::MigrateError::Downgrade {
            found: "9.0.0".into(),
            ours: crate::contract::CONTRACT_VERSION.into()
        })
    );
}

/// Tasks of a market from before stake snapshots have no snapshots and another sampling tree:
/// such a market is not migrated while it holds tasks; an empty one is.
#[test]
fn a_market_with_tasks_from_before_snapshots_is_not_migrated() {
    let (mut suite, _task, _start, _ts, _vs) = running_task(default_params(), 1, 1);
    pretend_stored_version(&mut suite, "0.1.0");
    assert_eq!(
        migrate(&mut suite).unwrap_err(),
        ContractError::MigrationWithTasks { from: "0.1.0".into(), store_since: "0.3.0".into() }
    );
    let mut empty = Suite::new(&["alice"]);
    pretend_stored_version(&mut empty, "0.1.0");
    migrate(&mut empty).unwrap();
}

/// A 0.1 market kept its pause inside the config; migrating keeps it paused.
#[test]
fn a_pause_stored_in_a_0_1_config_survives_migration() {
    let mut suite = Suite::new(&["alice"]);
    pretend_stored_version(&mut suite, "0.1.0");
    let market = suite.market.clone();
    {
        let mut storage = suite.app.contract_storage_mut(&market);
        let mut config: serde_json::Value = serde_json::from_slice(&storage.get(b"config_v1").unwrap()).unwrap();
        config["paused"] = true.into();
        storage.set(b"config_v1", &serde_json::to_vec(&config).unwrap());
        storage.remove(b"paused_v1");
    }
    migrate(&mut suite).unwrap();
    let config: arena_types::market::msg::ConfigResponse =
        suite.app.wrap().query_wasm_smart(&market, &arena_types::market::msg::QueryMsg::Config {}).unwrap();
    assert!(config.paused);
    let alice = suite.addr("alice");
    assert_eq!(suite.claim(&alice).unwrap_err(), ContractError::Paused {});
}

#[test]
fn reclaiming_the_pool_before_the_last_round_is_finalized_fails() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 0, 0);
    let creator = suite.addr("creator");
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let err = suite.execute(&creator, &ExecuteMsg::ReclaimPool { task_id: task }).unwrap_err();
    assert_eq!(err, ContractError::TaskNotFinished { task_id: task, finalized: 1, rounds: 3 });
}

#[test]
fn only_the_creator_reclaims_the_pool() {
    let (mut suite, task, _start, ts, _vs) = running_task(default_params(), 1, 0);
    let creator = suite.addr("creator");
    let err = suite.execute(&ts[0], &ExecuteMsg::ReclaimPool { task_id: task }).unwrap_err();
    assert_eq!(err, ContractError::Unauthorized { expected: creator.to_string() });
}

#[test]
fn a_former_admin_loses_the_role() {
    let mut suite = Suite::new(&["alice"]);
    let (admin, alice) = (suite.admin.clone(), suite.addr("alice"));
    suite.execute(&admin, &ExecuteMsg::UpdateAdmin { admin: Some(alice.to_string()) }).unwrap();
    let err = suite.execute(&admin, &ExecuteMsg::SetPaused { paused: true }).unwrap_err();
    assert_eq!(err, ContractError::Unauthorized { expected: alice.to_string() });
    suite.execute(&alice, &ExecuteMsg::UpdateAdmin { admin: None }).unwrap();
    let err = suite.execute(&alice, &ExecuteMsg::SetPaused { paused: true }).unwrap_err();
    assert_eq!(err, ContractError::Unauthorized { expected: "no one (the market has no admin)".into() });
}

/// Crank and query limits beyond their maximum are clamped, never refused and never obeyed:
/// assignment takes at most 100 submissions a call, finalization at least 1 and at most 200
/// items, list queries at most 100 entries.
#[test]
fn limits_are_clamped_to_their_bounds() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 150, 3);
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, Some(u32::MAX)).unwrap();
    assert_eq!(suite.round(task, 1).assigned, 100);
    suite.assign(task, Some(u32::MAX)).unwrap();
    assert_eq!(suite.round(task, 1).assigned, 150);
    let q = arena_types::market::msg::QueryMsg::Participants { task_id: task, start_after: None, limit: Some(1_000) };
    let page: arena_types::market::msg::ParticipantsResponse =
        suite.app.wrap().query_wasm_smart(&suite.market, &q).unwrap();
    assert_eq!(page.participants.len(), 100);
    suite.advance_to(at(start, 1, END));
    // Nobody committed: 150 submissions, each with 3 liveness slashings of 3 validators.
    let res = suite.finalize(task, 1, Some(0)).unwrap();
    assert_eq!(attr(&res, "processed"), "1");
    let res = suite.finalize(task, 1, Some(u32::MAX)).unwrap();
    let processed: u32 = attr(&res, "processed").parse().unwrap();
    assert!(processed > 1 && processed <= 200, "processed {processed}");
}
