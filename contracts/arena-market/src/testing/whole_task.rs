//! A whole task: 3 rounds, 5 training nodes, 7 validators, 3 delegators, every balance checked
//! at the end against amounts worked out by hand from the formulas of docs/design.md.
//!
//! The expected numbers come from an independent integer model of the formulas (emission =
//! pool / rounds left; R_v = floor(R * (gamma*(T+S) + (1-2gamma)*S) / (T+S)); trainer weight
//! floor(T_i * q^rank); pro-rata floors; operator split floor(r * eD/(own+eD)) * (1-sigma);
//! slashes floor(share * own)), not from this crate's code: `testdata/whole_task_model.py`,
//! whose output these are. Each round reads the stakes frozen for it: rounds 1 and 2 those of
//! round 1's submission phase, round 3 those after round 1's slashings and the undelegation at
//! round 2's start (both made after round 2's stakes froze). Per round:
//!
//! | round | emission | sum T | sum S | R_v   | R_t   | paid   | pool after |
//! |-------|----------|-------|-------|-------|-------|--------|------------|
//! | 1     | 10_000   | 7_200 | 8_800 | 5_400 | 4_600 | 9_994  | 20_614     |
//! | 2     | 10_307   | 7_200 | 8_800 | 5_565 | 4_742 | 10_302 | 10_312     |
//! | 3     | 10_312   | 7_200 | 7_942 | 5_358 | 4_954 | 10_306 | 824        |
//!
//! Round 1's pool gains 608 of slashes (v6 never reveals: 100 + 90 + 81 + 72 + 65; v5 is an
//! outlier once: 200); round 3's gains 818 (v3 never commits: 5 compounding 10% slashes of 2_000).

use arena_types::market::msg::{ExecuteMsg, Role};
use cosmwasm_std::{Addr, Decimal, Uint128};

use super::helpers::*;

/// Per validator index, submission index (within the round) and true score: what it reveals
/// (`None`: commits the true score and never reveals).
type Behaviour = fn(usize, usize, u32) -> Option<u32>;

struct World {
    suite: Suite,
    task: u64,
    start: u64,
    ts: Vec<Addr>,
    vs: Vec<Addr>,
    ds: Vec<Addr>,
}

impl World {
    /// Plays one round: the given trainers submit in order, validators commit and reveal per
    /// `behave` (those in `silent` do not even commit), then the round is finalized.
    fn play(&mut self, round: u32, subs: &[(usize, u32)], behave: Behaviour, silent: &[usize]) {
        let (task, start) = (self.task, self.start);
        let s = &mut self.suite;
        let mut ids = vec![];
        for (t, _) in subs {
            ids.push(s.submit(&self.ts[*t], task, *t as u8 + 10 * round as u8).unwrap());
        }
        s.advance_to(at(start, round, COMMIT));
        s.assign(task, None).unwrap();
        for (i, (id, (_, score))) in ids.iter().zip(subs).enumerate() {
            assert_eq!(s.assigned_validators(task, *id).len(), 7);
            for (j, v) in self.vs.iter().enumerate() {
                if !silent.contains(&j) {
                    let committed = behave(j, i, *score).unwrap_or(*score);
                    s.commit(v, task, *id, committed).unwrap();
                }
            }
        }
        s.advance_to(at(start, round, REVEAL));
        for (i, (id, (_, score))) in ids.iter().zip(subs).enumerate() {
            for (j, v) in self.vs.iter().enumerate() {
                if let (false, Some(revealed)) = (silent.contains(&j), behave(j, i, *score)) {
                    s.reveal(v, task, *id, revealed).unwrap();
                }
            }
        }
        s.advance_to(at(start, round, END));
        // Small pages, so the stages cross call boundaries.
        s.finalize_all(task, round, 4);
        s.assert_books_balance(task);
    }
}

fn round_one(v: usize, i: usize, score: u32) -> Option<u32> {
    match (v, i) {
        (6, _) => None,
        (5, 4) => Some(300_000),
        _ => Some(score),
    }
}

fn round_two(v: usize, i: usize, score: u32) -> Option<u32> {
    match (v, i) {
        // 40_000 from consensus: dissenting, neither paid nor slashed.
        (4, 0) => Some(950_000),
        // Within tau of consensus: in consensus, paid half a weight (graded: 10_000 of 20_000).
        (2, _) => Some(score + 10_000),
        _ => Some(score),
    }
}

fn honest(_v: usize, _i: usize, score: u32) -> Option<u32> {
    Some(score)
}

#[test]
fn three_rounds_pay_everyone_as_computed_by_hand() {
    let mut params = default_params();
    // k = 7 = every validator, so the expected amounts do not depend on sampling.
    params.validators_per_submission = 7;
    let (mut suite, task, start, ts, vs) = running_task(params, 5, 7);
    let ds: Vec<Addr> = (0..3).map(|i| suite.addr(&format!("delegator{i}"))).collect();
    suite.stake(&ts[2], task, Role::Trainer, 1_000).unwrap();
    suite.stake(&vs[3], task, Role::Validator, 1_000).unwrap();
    suite.delegate(&ds[0], task, &vs[0], 1_000).unwrap();
    suite.delegate(&ds[1], task, &ts[0], 2_000).unwrap();
    suite.delegate(&ds[2], task, &vs[1], 600).unwrap();
    suite.delegate(&ds[2], task, &ts[1], 400).unwrap();
    let set = |c| ExecuteMsg::SetCommission { task_id: task, commission: Decimal::percent(c) };
    suite.execute(&vs[0], &set(10)).unwrap();
    suite.execute(&ts[0], &set(5)).unwrap();
    assert_eq!(suite.task(task).trainer_stake.u128(), 7_200);
    assert_eq!(suite.task(task).validator_stake.u128(), 8_800);

    let mut w = World { suite, task, start, ts, vs, ds };
    w.play(1, &[(0, 900_000), (1, 800_000), (2, 850_000), (3, 700_000), (4, 600_000)], round_one, &[]);
    let r1 = w.suite.round(task, 1);
    assert_eq!((r1.emission.u128(), r1.validator_budget.u128(), r1.paid.u128()), (10_000, 5_400, 9_994));
    assert_eq!(w.suite.task(task).accounts.pool.u128(), 20_614);

    // Round 2's start: delegator0 takes half of its delegation back. Round 2's stakes froze at
    // the end of round 1's commit phase, so this counts from round 3.
    let d0 = w.ds[0].clone();
    let undelegate = ExecuteMsg::Undelegate { task_id: task, operator: w.vs[0].to_string(), amount: Uint128::new(500) };
    w.suite.execute(&d0, &undelegate).unwrap();
    w.play(2, &[(0, 910_000), (1, 820_000), (2, 905_000), (3, 820_000)], round_two, &[]);
    let r2 = w.suite.round(task, 2);
    assert_eq!((r2.emission.u128(), r2.validator_budget.u128(), r2.paid.u128()), (10_307, 5_565, 10_302));
    // The 820_000 tie goes to the earlier submission (trainer1's, id 7, before trainer3's, id 9).
    assert_eq!(w.suite.submission(task, 7).rank, Some(2));
    assert_eq!(w.suite.submission(task, 9).rank, Some(3));

    w.play(3, &[(0, 500_000), (1, 600_000), (2, 700_000), (3, 800_000), (4, 900_000)], honest, &[3]);
    let r3 = w.suite.round(task, 3);
    assert_eq!((r3.emission.u128(), r3.validator_budget.u128(), r3.paid.u128()), (10_312, 5_358, 10_306));
    let accounts = w.suite.task(task).accounts;
    assert_eq!(accounts.pool.u128(), 824);
    assert_eq!(accounts.slashed.u128(), 1_426);
    assert_eq!(w.suite.task(task).rounds_finalized, 3);

    // Rewards credited, as computed by hand.
    let trainer_rewards = [2_983, 948, 3_791, 1_425, 2_258];
    let validator_rewards = [2_397, 2_303, 1_956, 2_803, 2_129, 1_980, 1_224];
    for (t, r) in w.ts.iter().zip(trainer_rewards) {
        assert_eq!(w.suite.rewards(t), r, "trainer {t}");
    }
    for (v, r) in w.vs.iter().zip(validator_rewards) {
        assert_eq!(w.suite.rewards(v), r, "validator {v}");
    }
    let delegations = [(0, 0, true, 831), (1, 0, false, 2_696), (2, 1, true, 690), (2, 1, false, 188)];
    for (d, op, is_validator, pending) in delegations {
        let operator = if is_validator { &w.vs[op] } else { &w.ts[op] };
        assert_eq!(
            w.suite.delegation(task, &w.ds[d], operator).pending_rewards.u128(),
            pending,
            "delegator{d} -> {operator}"
        );
    }
    let own_after = [1_000, 1_000, 1_000, 1_182, 1_000, 800, 592];
    for (v, own) in w.vs.iter().zip(own_after) {
        assert_eq!(w.suite.participant(task, v).own.u128(), own, "validator {v}");
    }

    // Everyone takes everything out: claims, delegator rewards, unbonding, withdrawal.
    let s = &mut w.suite;
    for (d, op, is_validator, _) in delegations {
        let operator = if is_validator { &w.vs[op] } else { &w.ts[op] };
        let msg = ExecuteMsg::WithdrawDelegatorRewards { task_id: task, operator: operator.to_string() };
        s.execute(&w.ds[d], &msg).unwrap();
        let remaining = s.delegation(task, &w.ds[d], operator).amount;
        if !remaining.is_zero() {
            let msg = ExecuteMsg::Undelegate { task_id: task, operator: operator.to_string(), amount: remaining };
            s.execute(&w.ds[d], &msg).unwrap();
        }
    }
    for who in w.ts.iter().chain(&w.vs) {
        let own = s.participant(task, who).own;
        let msg = ExecuteMsg::Unbond { task_id: task, amount: own };
        s.execute(who, &msg).unwrap();
    }
    s.advance_blocks(END);
    for who in w.ts.iter().chain(&w.vs).chain(&w.ds) {
        s.claim(who).unwrap();
    }
    for who in w.ts.iter().chain(&w.vs) {
        let msg = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: None };
        s.execute(who, &msg).unwrap();
    }
    for (d, op, is_validator, _) in delegations {
        let operator = if is_validator { &w.vs[op] } else { &w.ts[op] };
        let msg = ExecuteMsg::WithdrawUnbonded { task_id: task, operator: Some(operator.to_string()) };
        s.execute(&w.ds[d], &msg).unwrap();
    }

    // Final cw20 balances (each account started with 1_000_000).
    let trainer_final = [1_002_983, 1_000_948, 1_003_791, 1_001_425, 1_002_258];
    let validator_final = [1_002_397, 1_002_303, 1_001_956, 1_001_985, 1_002_129, 1_001_780, 1_000_816];
    let delegator_final = [1_000_831, 1_002_696, 1_000_878];
    for (who, b) in w.ts.iter().zip(trainer_final) {
        assert_eq!(s.balance(who), b, "trainer {who}");
    }
    for (who, b) in w.vs.iter().zip(validator_final) {
        assert_eq!(s.balance(who), b, "validator {who}");
    }
    for (who, b) in w.ds.iter().zip(delegator_final) {
        assert_eq!(s.balance(who), b, "delegator {who}");
    }
    // The creator sent its pool and a bond of as much (every key revealed: the bond is whole).
    assert_eq!(s.balance(&s.addr("creator")), 940_000);
    // What stays in the market: the pool (824) and the bond. The delegator reserves had no
    // rounding left (had they, the last delegation's exit would have returned it to the pool).
    assert_eq!(s.balance(&s.market.clone()), 824 + 30_000);
    let a = s.task(task).accounts;
    assert_eq!((a.stake.u128(), a.unbonding.u128()), (0, 0));
    s.assert_books_balance(task);
    // The creator takes the pool's remainder and its bond back; nothing stays.
    let creator = s.addr("creator");
    s.execute(&creator, &ExecuteMsg::ReclaimPool { task_id: task }).unwrap();
    assert_eq!(s.balance(&creator), 970_824);
    assert_eq!(s.balance(&s.market.clone()), 0);
    assert_eq!(s.task(task).accounts.reclaimed.u128(), 30_824);
    s.assert_books_balance(task);
}
