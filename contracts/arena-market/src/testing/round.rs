//! One round end to end: submissions, sampling, commit-reveal, consensus and ranking.

use arena_types::market::median::Standing;
use arena_types::market::msg::{FinalizeStage, QueryMsg, RankingResponse, SubmissionStatus};
use arena_types::market::phase::Phase;
use cosmwasm_std::Uint128;

use super::helpers::*;

#[test]
fn sampling_assigns_k_distinct_validators_per_submission() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 4, 9);
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    // Two pages of two submissions each.
    let res = suite.assign(task, Some(2)).unwrap();
    assert_eq!(attr(&res, "assigned_through"), "2");
    let announced: Vec<String> = res
        .events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .filter(|a| a.key == "assigned")
        .map(|a| a.value.clone())
        .collect();
    let mut expected: Vec<String> = vec![];
    for id in 1..=2u64 {
        expected.extend(suite.assigned_validators(task, id).iter().map(|v| format!("{id}:{v}")));
    }
    let mut announced_sorted = announced.clone();
    announced_sorted.sort();
    expected.sort();
    assert_eq!(announced_sorted, expected);
    suite.assign(task, Some(2)).unwrap();
    assert_eq!(suite.round(task, 1).assigned, 4);
    let seed = suite.round(task, 1).seed.expect("seed fixed at first assignment");
    for id in 1..=4u64 {
        let assigned = suite.assigned_validators(task, id);
        assert_eq!(assigned.len(), 3, "submission {id}");
        let mut dedup = assigned.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), 3);
        assert!(assigned.iter().all(|v| vs.contains(v)));
        let sub = suite.submission(task, id);
        assert!(sub.assigned);
        // Every validator holds 1_000 own stake and no delegation: S_j = 1_000.
        assert_eq!(sub.assigned_weight, Uint128::new(3_000));
    }
    // A further crank has nothing left to do and changes nothing.
    suite.assign(task, None).unwrap();
    assert_eq!(suite.round(task, 1).seed, Some(seed));
    // Each validator can list its own assignments.
    let total: usize = vs
        .iter()
        .map(|v| {
            let r: arena_types::market::msg::AssignmentsResponse = suite
                .app
                .wrap()
                .query_wasm_smart(
                    &suite.market,
                    &QueryMsg::ValidatorAssignments {
                        task_id: task,
                        validator: v.to_string(),
                        start_after: None,
                        limit: None,
                    },
                )
                .unwrap();
            r.assignments.len()
        })
        .sum();
    assert_eq!(total, 12);
}

#[test]
fn a_round_reaches_consensus_and_ranks_by_it() {
    let mut params = default_params();
    params.validators_per_submission = 3;
    let (mut suite, task, start, ts, vs) = running_task(params, 3, 3);
    assert_eq!(suite.task(task).now.phase, Phase::Submission);
    let scores = [700_000u32, 900_000, 800_000];
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for id in 1..=3u64 {
        for v in &vs {
            suite.commit(v, task, id, scores[id as usize - 1]).unwrap();
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    for id in 1..=3u64 {
        for v in &vs {
            suite.reveal(v, task, id, scores[id as usize - 1]).unwrap();
        }
    }
    suite.advance_to(at(start, 1, END));
    assert_eq!(suite.round(task, 1).phase, Phase::Closed);
    // limit 1: one item per call; 3 scores + 3 ranks + 3 trainer payments + 3 validators,
    // plus one call per stage that finds its page short.
    let calls = suite.finalize_all(task, 1, 1);
    assert!(calls >= 12, "took {calls} calls");
    let round = suite.round(task, 1);
    assert_eq!(round.stage, FinalizeStage::Done);
    assert!(round.finalized);
    assert_eq!(round.scored, 3);
    let ranking: RankingResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &QueryMsg::Ranking { task_id: task, round: 1, start_after: None, limit: None })
        .unwrap();
    let order: Vec<(u32, u64, u32)> = ranking.ranking.iter().map(|r| (r.rank, r.submission_id, r.consensus)).collect();
    assert_eq!(order, vec![(0, 2, 900_000), (1, 3, 800_000), (2, 1, 700_000)]);
    for id in 1..=3u64 {
        let sub = suite.submission(task, id);
        assert_eq!(sub.status, SubmissionStatus::Scored);
        assert_eq!(sub.consensus, Some(scores[id as usize - 1]));
        for a in suite.assignments(task, id).assignments {
            assert_eq!(a.standing, Some(Standing::InConsensus));
        }
    }
    // Emission 10_000; T = S = 3_000: R_v = 10_000 * (0.1 + 0.8 / 2) = 5_000.
    assert_eq!(round.emission.u128(), 10_000);
    assert_eq!(round.validator_budget.u128(), 5_000);
    // Trainer weights 1000 * 0.5^rank: 1000, 500, 250 of 1750.
    assert_eq!(suite.submission(task, 2).reward.u128(), 5_000 * 1000 / 1750);
    assert_eq!(suite.submission(task, 3).reward.u128(), 5_000 * 500 / 1750);
    assert_eq!(suite.submission(task, 1).reward.u128(), 5_000 * 250 / 1750);
    // Three equal validators share 5_000.
    for v in &vs {
        assert_eq!(suite.rewards(v), 1_666);
    }
    suite.assert_books_balance(task);
    let a = suite.task(task).accounts;
    // Dust: 5000 - 2857 - 1428 - 714 = 1, and 5000 - 3 * 1666 = 2, back in the pool.
    assert_eq!(a.pool.u128(), 20_000 + 3);
}

#[test]
fn a_round_without_submissions_returns_its_emission() {
    let (mut suite, task, start, _ts, _vs) = running_task(default_params(), 2, 3);
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    let a = suite.task(task).accounts;
    assert_eq!(a.pool.u128(), 30_000);
    assert_eq!(suite.task(task).rounds_finalized, 1);
    suite.assert_books_balance(task);
}

/// Plays round 1 of a task with 6 trainers and 5 validators (k = 3), one validator silent and
/// one an outlier, and finalizes it in pages of `page`; returns everyone's claimable rewards.
fn rewards_with_page_size(page: u32) -> Vec<u128> {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 6, 5);
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    let score = |id: u64, v: usize| if v == 4 { 10_000 } else { 500_000 + id as u32 * 10_000 };
    for id in 1..=6u64 {
        for v in suite.assigned_validators(task, id) {
            let j = vs.iter().position(|x| *x == v).unwrap();
            if j != 3 {
                suite.commit(&v, task, id, score(id, j)).unwrap();
            }
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    for id in 1..=6u64 {
        for v in suite.assigned_validators(task, id) {
            let j = vs.iter().position(|x| *x == v).unwrap();
            if j != 3 {
                suite.reveal(&v, task, id, score(id, j)).unwrap();
            }
        }
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, page);
    suite.assert_books_balance(task);
    ts.iter().chain(&vs).map(|a| suite.rewards(a)).collect()
}

#[test]
fn finalization_does_not_depend_on_the_page_size() {
    let one_by_one = rewards_with_page_size(1);
    assert!(one_by_one.iter().any(|r| *r > 0));
    assert_eq!(one_by_one, rewards_with_page_size(3));
    assert_eq!(one_by_one, rewards_with_page_size(200));
}

#[test]
fn the_next_rounds_seed_mixes_the_revealed_salts() {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for v in &vs {
        suite.commit(v, task, 1, 500_000).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for v in &vs {
        suite.reveal(v, task, 1, 500_000).unwrap();
    }
    suite.advance_to(at(start, 2, SUBMIT));
    suite.submit(&ts[0], task, 2).unwrap();
    suite.advance_to(at(start, 2, COMMIT));
    suite.assign(task, None).unwrap();
    let seed1 = suite.round(task, 1).seed.unwrap();
    let seed2 = suite.round(task, 2).seed.unwrap();
    let mut mix = [0u8; 32];
    for v in &vs {
        mix = arena_types::market::commitment::mix_salt(&mix, &salt_for(v, 1));
    }
    // Reveals arrived in the order of `vs`; the creator's beacon of round 2 joins them.
    let beacon = arena_types::market::commitment::beacon_value(&BEACON_SECRET, 3, 2);
    let expected = arena_types::market::commitment::next_round_seed(&seed1.to_array().unwrap(), &mix, &beacon, 2);
    assert_eq!(seed2.to_array::<32>().unwrap(), expected);
}

#[test]
fn phases_can_run_on_block_time() {
    let mut params = default_params();
    params.phases.clock = arena_types::market::phase::Clock::Time;
    params.phases.submission = 60;
    params.phases.model_reveal = 10;
    params.phases.commit = 30;
    params.phases.reveal = 30;
    params.phases.unbonding = 130;
    let (mut suite, task, _start, ts, _vs) = running_task(params, 1, 1);
    let t0 = suite.task(task).schedule.start;
    assert_eq!(t0, suite.app.block_info().time.seconds());
    suite.submit(&ts[0], task, 1).unwrap();
    // advance_blocks moves 5 s per block: 12 blocks = 60 s, the model-reveal phase, where the
    // suite reveals the model; 14 blocks = 70 s, the commit phase.
    suite.advance_blocks(12);
    assert!(suite.submission(task, 1).model.is_some());
    suite.advance_blocks(2);
    let now = suite.task(task).now;
    assert_eq!((now.round, now.phase, now.ends_at), (1, Phase::Commit, t0 + 100));
}
