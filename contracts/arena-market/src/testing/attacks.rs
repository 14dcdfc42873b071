//! Each way the security review (issue 11) found to take money or power without earning it, as
//! the attacker would play it. Every test here failed on the market before stake snapshots, the
//! beacon, the unbonding lock and slot reuse; the name says what no longer pays.

use arena_types::market::msg::{ExecuteMsg, Role, SubmissionStatus};
use arena_types::market::phase::Phase;
use cosmwasm_std::{Addr, Decimal, HexBinary, Uint128};

use super::helpers::*;
use crate::state::MAX_VALIDATOR_SLOTS;
use crate::ContractError;

/// Plays `round` with one submission by `trainer` that every assigned validator scores
/// `score`, up to the round's end (not finalized). Returns the submission id.
fn play_round(suite: &mut Suite, task: u64, start: u64, round: u32, trainer: &Addr, score: u32) -> u64 {
    suite.advance_to(at(start, round, SUBMIT));
    let id = suite.submit(trainer, task, round as u8).unwrap();
    suite.advance_to(at(start, round, COMMIT));
    suite.assign(task, None).unwrap();
    let assigned = suite.assigned_validators(task, id);
    for v in &assigned {
        suite.commit(v, task, id, score).unwrap();
    }
    suite.advance_to(at(start, round, REVEAL));
    for v in &assigned {
        suite.reveal(v, task, id, score).unwrap();
    }
    suite.advance_to(at(start, round, END));
    id
}

/// Scenario 1. After the round closes, an account delegates a large amount to a validator,
/// finalizes the round and undelegates, all at once. Before, the operator/delegator split read
/// live stakes and the attacker took 2,326 of the validator's 2,333.
#[test]
fn a_delegation_made_at_payment_takes_nothing_of_the_round() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    play_round(&mut suite, task, start, 1, &ts[0], 800_000);
    let attacker = suite.addr("delegator0");
    suite.delegate(&attacker, task, &vs[0], 900_000).unwrap();
    suite.finalize_all(task, 1, 50);
    let undelegate =
        ExecuteMsg::Undelegate { task_id: task, operator: vs[0].to_string(), amount: Uint128::new(900_000) };
    suite.execute(&attacker, &undelegate).unwrap();

    assert_eq!(suite.delegation(task, &attacker, &vs[0]).pending_rewards, Uint128::zero());
    // Equal stakes, all in consensus: validator 0 keeps what its peers get.
    assert!(suite.rewards(&vs[0]) > 0);
    assert_eq!(suite.rewards(&vs[0]), suite.rewards(&vs[1]));
    // Later rounds are not the attacker's either: its delegation was gone before round 3 froze.
    play_round(&mut suite, task, start, 2, &ts[0], 800_000);
    suite.finalize_all(task, 2, 50);
    assert_eq!(suite.delegation(task, &attacker, &vs[0]).pending_rewards, Uint128::zero());
    suite.assert_books_balance(task);
}

/// Scenario 1, the operator's side: a validator stakes more right before payment to shrink its
/// delegators' share. They are paid by the stakes frozen for the round.
#[test]
fn an_operator_staking_at_payment_does_not_shrink_its_delegators_share() {
    let pay_delegator = |top_up: bool| {
        let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
        let delegator = suite.addr("delegator0");
        suite.delegate(&delegator, task, &vs[0], 1_000).unwrap();
        play_round(&mut suite, task, start, 1, &ts[0], 800_000);
        if top_up {
            suite.stake(&vs[0], task, Role::Validator, 500_000).unwrap();
        }
        suite.finalize_all(task, 1, 50);
        (suite.delegation(task, &delegator, &vs[0]).pending_rewards, suite.rewards(&vs[0]))
    };
    let honest = pay_delegator(false);
    assert!(!honest.0.is_zero());
    assert_eq!(pay_delegator(true), honest);
}

/// Scenario 1, commission: raising the commission after the freeze applies from a later round.
#[test]
fn a_commission_raised_at_payment_does_not_apply_to_the_round() {
    let pay_delegator = |raise: bool| {
        let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
        let delegator = suite.addr("delegator0");
        suite.delegate(&delegator, task, &vs[0], 1_000).unwrap();
        play_round(&mut suite, task, start, 1, &ts[0], 800_000);
        if raise {
            let set = ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(10) };
            suite.execute(&vs[0], &set).unwrap();
        }
        suite.finalize_all(task, 1, 50);
        suite.delegation(task, &delegator, &vs[0]).pending_rewards
    };
    assert_eq!(pay_delegator(true), pay_delegator(false));
}

/// Scenario 2. Once a round's stakes froze, no stake change moves its sampling: the same task
/// with and without an attacker adding 100x the stake to its validators after the freeze samples
/// the same validators for every submission.
#[test]
fn stake_added_after_the_freeze_does_not_change_who_is_sampled() {
    let assignments = |late_stake: bool| {
        let mut params = default_params();
        params.validators_per_submission = 3;
        let (mut suite, task, start, ts, vs) = running_task(params, 4, 12);
        // Round 2's stakes freeze at the end of round 1's commit phase.
        suite.advance_to(at(start, 1, REVEAL));
        assert_eq!(suite.task(task).stakes_count_from, 3);
        if late_stake {
            for v in &vs[..3] {
                suite.stake(v, task, Role::Validator, 100_000).unwrap();
            }
        }
        suite.advance_to(at(start, 2, SUBMIT));
        let ids: Vec<u64> = ts.iter().enumerate().map(|(i, t)| suite.submit(t, task, 50 + i as u8).unwrap()).collect();
        suite.advance_to(at(start, 2, COMMIT));
        suite.assign(task, Some(100)).unwrap();
        let picks: Vec<Vec<Addr>> = ids.iter().map(|id| suite.assigned_validators(task, *id)).collect();
        let weights: Vec<Uint128> =
            ids.iter().flat_map(|id| suite.assignments(task, *id).assignments).map(|a| a.weight).collect();
        (picks, weights)
    };
    let honest = assignments(false);
    assert_eq!(assignments(true), honest);
    // Each reveal weighs the frozen own stake.
    assert!(honest.1.iter().all(|w| w.u128() == 1_000));
}

/// Scenario 2, the seed: it mixes the creator's beacon, which the contract takes only after the
/// round's stakes froze, so the seed is unknown while stakes can still move.
#[test]
fn the_beacon_is_refused_before_the_stakes_freeze() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 3);
    suite.advance_to(at(start, 1, MODEL_REVEAL) - 1);
    let err = suite.reveal_beacon(task, 1).unwrap_err();
    let opens_at = at(start, 1, MODEL_REVEAL);
    assert_eq!(err, ContractError::BeaconTooEarly { round: 1, opens_at, now: opens_at - 1 });
    suite.advance_to(at(start, 1, COMMIT));
    suite.reveal_beacon(task, 1).unwrap();
    // Round 2's freezes at the end of round 1's commit phase.
    let err = suite.reveal_beacon(task, 2).unwrap_err();
    let (opens_at, now) = (at(start, 1, REVEAL), at(start, 1, COMMIT));
    assert_eq!(err, ContractError::BeaconTooEarly { round: 2, opens_at, now });
    suite.advance_to(at(start, 1, REVEAL));
    suite.reveal_beacon(task, 2).unwrap();
    let b = suite.beacon(task);
    assert_eq!((b.revealed_round, b.next_round), (2, Some(3)));
}

#[test]
fn a_wrong_or_replayed_beacon_value_is_refused() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 1, 3);
    suite.advance_to(at(start, 1, COMMIT));
    let creator = suite.addr("creator");
    let forged = ExecuteMsg::RevealBeacon { task_id: task, round: 1, value: HexBinary::from([1u8; 32]) };
    assert_eq!(suite.execute(&creator, &forged).unwrap_err(), ContractError::BeaconMismatch { known_round: 0 });
    let short = ExecuteMsg::RevealBeacon { task_id: task, round: 1, value: HexBinary::from([1u8; 31]) };
    assert_eq!(suite.execute(&creator, &short).unwrap_err(), ContractError::BadLength { field: "value", len: 31 });
    suite.reveal_beacon(task, 1).unwrap();
    assert_eq!(suite.reveal_beacon(task, 1).unwrap_err(), ContractError::BeaconMismatch { known_round: 1 });
    let unknown = ExecuteMsg::RevealBeacon { task_id: task, round: 4, value: HexBinary::from([1u8; 32]) };
    assert!(matches!(suite.execute(&creator, &unknown).unwrap_err(), ContractError::UnknownRound { round: 4, .. }));
}

/// Without the beacon, sampling waits half a commit phase, then goes ahead without it (an absent
/// creator slows a round, it cannot stop it); a beacon sent after sampling started is refused.
#[test]
fn sampling_waits_for_the_beacon_until_its_deadline() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    let cranker = suite.addr("cranker");
    let assign = ExecuteMsg::Assign { task_id: task, limit: None };
    let err = suite.execute(&cranker, &assign).unwrap_err();
    let (deadline, now) = (at(start, 1, COMMIT) + 2, at(start, 1, COMMIT));
    assert_eq!(err, ContractError::BeaconPending { round: 1, deadline, now });
    suite.advance_to(at(start, 1, COMMIT) + 2);
    let res = suite.execute(&cranker, &assign).unwrap();
    assert_eq!(attr(&res, "beacon"), "missed");
    assert_eq!(suite.assigned_validators(task, 1).len(), 3);
    assert_eq!(suite.reveal_beacon(task, 1).unwrap_err(), ContractError::BeaconTooLate { round: 1 });
    // The chain goes on: round 2's value still follows the anchor.
    suite.advance_to(at(start, 1, REVEAL));
    suite.reveal_beacon(task, 2).unwrap();
}

/// Scenario 3. A validator unbonds right after being assigned, reveals a far-off score and tries
/// to withdraw at its release height before anyone finalizes the round. Before, the slash found
/// nothing left.
#[test]
fn unbonding_before_the_round_is_finalized_does_not_escape_the_slash() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let liar = vs[2].clone();
    suite.execute(&liar, &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_000) }).unwrap();
    for (v, score) in vs.iter().zip([800_000, 800_000, 0]) {
        suite.commit(v, task, 1, score).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (v, score) in vs.iter().zip([800_000, 800_000, 0]) {
        suite.reveal(v, task, 1, score).unwrap();
    }
    // Release height (assignment + 20 blocks) is in round 2; round 1 is not finalized yet.
    suite.advance_to(at(start, 2, COMMIT));
    let withdraw = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None };
    assert_eq!(suite.execute(&liar, &withdraw).unwrap_err(), ContractError::UnbondingLocked { round: 1, finalized: 0 });
    suite.finalize_all(task, 1, 50);
    // 20% outlier share of the 1_000 it was unbonding.
    assert_eq!(suite.participant(task, &liar).slashed.u128(), 200);
    let before = suite.balance(&liar);
    suite.execute(&liar, &withdraw).unwrap();
    assert_eq!(suite.balance(&liar) - before, 800);
    suite.assert_books_balance(task);
}

/// Round 1 takes submissions before its stakes freeze. A trainer that submitted and then left
/// before the freeze would be ranked on a stake that no longer counts, taking a rank (and
/// pushing every other trainer down one) for nothing: it keeps its stake until the freeze.
#[test]
fn a_trainer_that_submitted_keeps_its_stake_until_the_round_freezes() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 2, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    let unbond = ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_000) };
    assert_eq!(
        suite.execute(&ts[0], &unbond).unwrap_err(),
        ContractError::StakeHeldBySubmission { round: 1, until: start + 10 }
    );
    // A trainer that did not submit may leave; the one that did, once the stakes froze.
    suite.execute(&ts[1], &unbond).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.execute(&ts[0], &unbond).unwrap();
    assert_eq!(suite.stake_at(task, &ts[0], 1).own, Uint128::new(1_000));
}

/// Scenario 4. Staking as a validator, finalizing and unbonding at once used to move the split
/// between validators and trainers; the split reads the sums frozen for the round.
#[test]
fn stake_added_at_payment_does_not_steer_the_emission_split() {
    let budget = |steer: bool| {
        let (mut suite, task, start, ts, _vs) = running_task(default_params(), 1, 3);
        play_round(&mut suite, task, start, 1, &ts[0], 800_000);
        let whale = suite.addr("delegator1");
        if steer {
            suite.stake(&whale, task, Role::Validator, 900_000).unwrap();
        }
        suite.finalize_all(task, 1, 50);
        if steer {
            suite.execute(&whale, &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(900_000) }).unwrap();
        }
        let r = suite.round(task, 1);
        (r.validator_budget, r.trainer_budget)
    };
    assert_eq!(budget(true), budget(false));
}

/// Scenario 5. Sybils at the minimum stake fill every validator slot, then leave with their
/// capital: their slots are given back, and a newcomer joins in one.
#[test]
fn a_full_validator_set_refuses_newcomers_until_a_validator_leaves() {
    let names: Vec<String> = (0..=MAX_VALIDATOR_SLOTS).map(|i| format!("sybil{i}")).collect();
    let mut accounts: Vec<&str> = names.iter().map(String::as_str).collect();
    accounts.push("creator");
    let mut suite = Suite::new(&accounts);
    let creator = suite.addr("creator");
    let start = suite.height();
    let task = suite.create_task(&creator, 30_000, default_params()).unwrap();
    for name in &names[..MAX_VALIDATOR_SLOTS as usize] {
        let sybil = suite.addr(name);
        suite.stake(&sybil, task, Role::Validator, 100).unwrap();
    }
    let newcomer = suite.addr(&names[MAX_VALIDATOR_SLOTS as usize]);
    let err = suite.stake(&newcomer, task, Role::Validator, 100).unwrap_err();
    assert_eq!(err, ContractError::ValidatorSetFull { task_id: task, max: MAX_VALIDATOR_SLOTS });

    let leaver = suite.addr(&names[7]);
    suite.execute(&leaver, &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(100) }).unwrap();
    suite.advance_to(at(start, 2, SUBMIT));
    suite.execute(&leaver, &ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None }).unwrap();
    assert_eq!(suite.participant(task, &leaver).slot, None);
    suite.stake(&newcomer, task, Role::Validator, 100).unwrap();
    assert_eq!(suite.participant(task, &newcomer).slot, Some(8));
    assert_eq!(suite.task(task).validators, MAX_VALIDATOR_SLOTS);
}

/// Scenario 5, the timing: a slot comes back only once the leaver's zero weight is in force for
/// the round being sampled, so that round can never land on the slot's new owner.
#[test]
fn a_slot_is_not_given_back_while_a_frozen_round_still_weighs_it() {
    let mut params = default_params();
    params.phases.unbonding = END;
    let (mut suite, task, start, _ts, vs) = running_task(params, 1, 3);
    // Unbond in round 2's commit phase (counts from round 3), withdraw a round later, in
    // round 3's commit phase, when round 3 (with the zero) is the round being sampled.
    suite.advance_to(at(start, 2, COMMIT));
    suite.execute(&vs[1], &ExecuteMsg::Unbond { task_id: task, amount: Uint128::new(1_000) }).unwrap();
    suite.advance_to(at(start, 3, COMMIT));
    suite.execute(&vs[1], &ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None }).unwrap();
    assert_eq!(suite.participant(task, &vs[1]).slot, None);
    // Rejoining takes the freed slot again, counting from the next round.
    suite.stake(&vs[1], task, Role::Validator, 1_000).unwrap();
    assert_eq!(suite.participant(task, &vs[1]).slot, Some(2));
    assert_eq!(suite.stake_at(task, &vs[1], 3).own, Uint128::zero());
}

/// Scenario 6. A validator with the minimum own stake and a huge delegation (its own sybil's)
/// lies: delegated stake is never slashed, so it weighs nothing in the consensus.
#[test]
fn delegated_stake_has_no_say_in_the_consensus() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    let sybil = suite.addr("delegator0");
    suite.delegate(&sybil, task, &vs[2], 900_000).unwrap();
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for (v, score) in vs.iter().zip([800_000, 810_000, 0]) {
        suite.commit(v, task, 1, score).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (v, score) in vs.iter().zip([800_000, 810_000, 0]) {
        suite.reveal(v, task, 1, score).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    // With epsilon * delegated in the weight (451_000 against 2_000) the liar was the median.
    assert_eq!(suite.submission(task, 1).consensus, Some(800_000));
    assert_eq!(suite.participant(task, &vs[2]).slashed.u128(), 200);
}

/// Scenario 7. Half of the revealed weight used to pull a score down to its own; an even split
/// far apart now leaves the submission unscored, and nobody is slashed on it as an outlier.
#[test]
fn exactly_half_of_the_weight_cannot_pull_a_score_down() {
    let mut params = default_params();
    params.validators_per_submission = 4;
    let (mut suite, task, start, ts, vs) = running_task(params, 1, 4);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let scores = [900_000, 900_000, 0, 0];
    for (v, score) in vs.iter().zip(scores) {
        suite.commit(v, task, 1, score).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (v, score) in vs.iter().zip(scores) {
        suite.reveal(v, task, 1, score).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let s = suite.submission(task, 1);
    assert_eq!((s.status, s.consensus), (SubmissionStatus::Unscored, None));
    assert!(suite.slash_events(task).events.is_empty());
    suite.assert_books_balance(task);
}

/// Scenario 7, parameters: one or two validators per submission, or a quorum below half, let a
/// single validator or a minority decide.
#[test]
fn tasks_with_fewer_than_three_validators_or_a_minority_quorum_are_refused() {
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    let mut params = default_params();
    params.validators_per_submission = 1;
    assert!(matches!(
        suite.create_task(&creator, 1_000, params).unwrap_err(),
        ContractError::InvalidParam(arena_types::market::params::ParamError::OutOfRange {
            field: "validators_per_submission",
            ..
        })
    ));
    let mut params = default_params();
    params.quorum = Decimal::from_ratio(1u128, 1_000_000u128);
    assert!(matches!(
        suite.create_task(&creator, 1_000, params).unwrap_err(),
        ContractError::InvalidParam(arena_types::market::params::ParamError::OutOfRange { field: "quorum", .. })
    ));
}

/// Scenario 7, dust withdrawals: a 1-unit withdrawal to the EVM side used to take a leaf of a
/// settlement batch; below the market's minimum it is refused and nothing moves.
#[test]
fn an_evm_withdrawal_below_the_minimum_is_refused() {
    let mut suite = Suite::new(&["creator", "trainer0", "validator0", "validator1", "validator2"]);
    let creator = suite.addr("creator");
    let start = suite.height();
    // A pool of 3_000 over 3 rounds: each validator earns a few hundred in round 1.
    let task = suite.create_task(&creator, 3_000, default_params()).unwrap();
    let trainer = suite.addr("trainer0");
    suite.stake(&trainer, task, Role::Trainer, 1_000).unwrap();
    let vs: Vec<Addr> = (0..3).map(|i| suite.addr(&format!("validator{i}"))).collect();
    for v in &vs {
        suite.stake(v, task, Role::Validator, 1_000).unwrap();
    }
    play_round(&mut suite, task, start, 1, &trainer, 800_000);
    suite.finalize_all(task, 1, 50);
    let small = suite.rewards(&vs[0]);
    assert!(small > 0 && small < 1_000, "validator reward {small}");
    let msg = ExecuteMsg::WithdrawToEvm { evm_recipient: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".into() };
    // Refused before anything is sent to the bridge.
    let (admin, bridge) = (suite.admin.clone(), suite.addr("bridge"));
    suite.execute(&admin, &ExecuteMsg::SetBridge { bridge: bridge.to_string() }).unwrap();
    suite.wait_for_bridge_change();
    let err = suite.execute(&vs[0], &msg).unwrap_err();
    assert_eq!(err, ContractError::WithdrawalTooSmall { min: Uint128::new(1_000), amount: Uint128::new(small) });
    assert_eq!(suite.rewards(&vs[0]), small);
}

/// Scenario 7, delegators' dust: what rounding leaves in an operator's delegator reserve returns
/// to the pool when its last delegator leaves, so the books end with nothing stuck.
#[test]
fn the_delegators_rounding_dust_returns_to_the_pool() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    let ds: Vec<Addr> = (0..3).map(|i| suite.addr(&format!("delegator{i}"))).collect();
    for (d, amount) in ds.iter().zip([333, 333, 334]) {
        suite.delegate(d, task, &vs[0], amount).unwrap();
    }
    play_round(&mut suite, task, start, 1, &ts[0], 800_000);
    suite.finalize_all(task, 1, 50);
    let reserve = suite.participant(task, &vs[0]).delegator_reserve.u128();
    let owed: u128 = ds.iter().map(|d| suite.delegation(task, d, &vs[0]).pending_rewards.u128()).sum();
    assert!(reserve > owed, "this split leaves no dust: reserve {reserve}, owed {owed}");
    let pool_before = suite.task(task).accounts.pool.u128();
    for (d, amount) in ds.iter().zip([333u128, 333, 334]) {
        let take = ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: vs[0].to_string() };
        suite.execute(d, &take).unwrap();
        let undelegate =
            ExecuteMsg::Undelegate { task_id: task, operator: vs[0].to_string(), amount: Uint128::new(amount) };
        suite.execute(d, &undelegate).unwrap();
    }
    suite.advance_to(at(start, 3, SUBMIT));
    // Rounds 2 and 3 count the delegations until round 4 (none): finalize them first.
    for round in 2..=3 {
        suite.advance_to(at(start, round, END));
        suite.finalize_all(task, round, 50);
    }
    for d in &ds {
        let withdraw = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: Some(vs[0].to_string()) };
        suite.execute(d, &withdraw).unwrap();
        let take = ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: vs[0].to_string() };
        // Rounds 2 and 3 paid nothing (no submissions): nothing more to take.
        assert_eq!(
            suite.execute(d, &take).unwrap_err(),
            ContractError::UnknownDelegation { task_id: task, address: d.clone(), operator: vs[0].clone() }
        );
    }
    let p = suite.participant(task, &vs[0]);
    assert_eq!(p.delegator_reserve, Uint128::zero());
    assert!(suite.task(task).accounts.pool.u128() >= pool_before + (reserve - owed));
    suite.assert_books_balance(task);
    assert_eq!(suite.task(task).now.phase, Phase::Closed);
}
