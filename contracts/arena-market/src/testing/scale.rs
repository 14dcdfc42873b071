//! A larger round: 60 training nodes, 40 validators, k = 5 sampled by stake, mixed behaviour,
//! finalized in small pages. Checks what must hold whatever the numbers: every token is
//! accounted for, the contract holds exactly what its books say, and the page size changes
//! nothing but the number of calls.

use arena_types::market::msg::{
    ParticipantsResponse, QueryMsg, RankEntry, RankingResponse, Role, SlashEventsResponse, SubmissionStatus,
    SubmissionsResponse,
};
use cosmwasm_std::Addr;

use super::helpers::*;

/// The round, played up to its close: every 9th validator stays silent and every 13th reveals
/// far off, so finalization slashes several validators several times each.
fn large_round() -> (Suite, u64, u64, Vec<Addr>, Vec<Addr>) {
    let mut params = default_params();
    params.validators_per_submission = 5;
    params.beta = cosmwasm_std::Decimal::percent(50);
    let (mut suite, task, start, ts, vs) = running_task(params, 60, 40);
    // Uneven validator stakes, so sampling by S^beta has something to weigh.
    for (i, v) in vs.iter().enumerate() {
        suite.stake(v, task, Role::Validator, 1_000 * (i as u128 % 7) + 1).unwrap();
    }
    let d0 = suite.addr("delegator0");
    suite.delegate(&d0, task, &vs[7], 5_000).unwrap();
    suite.delegate(&d0, task, &ts[3], 5_000).unwrap();
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 1, COMMIT));
    while suite.round(task, 1).assigned < 60 {
        suite.assign(task, Some(7)).unwrap();
    }
    // Validator j scores submission id as 300_000 + 10_000 * (id % 50), except: every 9th
    // validator stays silent, every 13th is far off.
    let score = |id: u64, j: usize| {
        if j % 13 == 12 {
            5_000
        } else {
            300_000 + 10_000 * (id % 50) as u32
        }
    };
    let mut assignments = vec![];
    for id in 1..=60u64 {
        let assigned = suite.assigned_validators(task, id);
        assert!(!assigned.is_empty() && assigned.len() <= 5);
        for v in assigned {
            let j = vs.iter().position(|x| *x == v).unwrap();
            if j % 9 != 8 {
                suite.commit(&v, task, id, score(id, j)).unwrap();
                assignments.push((id, v, j));
            }
        }
    }
    suite.advance_to(at(start, 1, REVEAL));
    for (id, v, j) in &assignments {
        suite.reveal(v, task, *id, score(*id, *j)).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    (suite, task, start, ts, vs)
}

#[test]
fn a_large_round_keeps_every_token_accounted_for() {
    let (mut suite, task, _, ts, vs) = large_round();
    let calls = suite.finalize_all(task, 1, 7);
    assert!(calls > 20, "{calls} calls");
    suite.assert_books_balance(task);

    let round = suite.round(task, 1);
    // The pool lost what was paid and gained what was slashed; dust went back into it.
    let a = suite.task(task).accounts;
    assert_eq!(a.pool.u128(), 30_000 - round.paid.u128() + a.slashed.u128());
    assert!(round.paid.u128() <= round.emission.u128());
    let scored = (1..=60u64).filter(|id| suite.submission(task, *id).status == SubmissionStatus::Scored).count();
    assert_eq!(scored as u64, round.scored);
    assert!(scored > 40, "only {scored} scored");

    // Rewarded = what accounts can claim + what delegators can still withdraw.
    let a = suite.task(task).accounts;
    let participants: ParticipantsResponse = suite
        .app
        .wrap()
        .query_wasm_smart(&suite.market, &QueryMsg::Participants { task_id: task, start_after: None, limit: Some(100) })
        .unwrap();
    assert_eq!(participants.participants.len(), 100);
    let claimable: u128 = ts.iter().chain(&vs).map(|x| suite.rewards(x)).sum();
    let reserves: u128 = participants.participants.iter().map(|p| p.delegator_reserve.u128()).sum();
    assert_eq!(a.rewarded.u128(), claimable + reserves);
    // The contract holds exactly what entered it, nothing having left yet.
    assert_eq!(suite.balance(&suite.market.clone()), a.entered.u128());
    assert!(a.slashed.u128() > 0);

    // The ranking pages by rank: pages of 7 read the same as one page of everything.
    let ranking = |start_after: Option<u32>, limit: u32| -> RankingResponse {
        let q = QueryMsg::Ranking { task_id: task, round: 1, start_after, limit: Some(limit) };
        suite.app.wrap().query_wasm_smart(&suite.market, &q).unwrap()
    };
    let whole = ranking(None, 100).ranking;
    assert_eq!(whole.len() as u64, round.scored);
    let mut paged = vec![];
    loop {
        let page = ranking(paged.last().map(|e: &RankEntry| e.rank), 7).ranking;
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    assert_eq!(paged, whole);
    assert!(whole.iter().enumerate().all(|(i, e)| e.rank == i as u32));
    assert!(whole.windows(2).all(|w| w[0].consensus >= w[1].consensus));
}

/// Everything finalization writes that a query can see.
fn finalized_state(suite: &Suite, task: u64, everyone: &[Addr]) -> Vec<String> {
    let mut state = vec![format!("{:?}", suite.task(task)), format!("{:?}", suite.round(task, 1))];
    for start_after in [None, Some(30)] {
        let page = QueryMsg::Submissions { task_id: task, round: Some(1), start_after, limit: Some(30) };
        let subs: SubmissionsResponse = suite.app.wrap().query_wasm_smart(&suite.market, &page).unwrap();
        assert_eq!(subs.submissions.len(), 30);
        state.push(format!("{subs:?}"));
    }
    let mut after = None;
    loop {
        let page = QueryMsg::SlashEvents { task_id: task, start_after: after, limit: Some(100) };
        let events: SlashEventsResponse = suite.app.wrap().query_wasm_smart(&suite.market, &page).unwrap();
        let Some(last) = events.events.last() else { break };
        after = Some(last.id);
        state.push(format!("{events:?}"));
    }
    for who in everyone {
        state.push(format!("{who} {:?} {}", suite.participant(task, who), suite.rewards(who)));
    }
    state
}

#[test]
fn the_page_size_changes_the_number_of_calls_and_nothing_else() {
    let mut outcomes = vec![];
    for limit in [1, 7, 200] {
        let (mut suite, task, _, ts, vs) = large_round();
        let calls = suite.finalize_all(task, 1, limit);
        let everyone: Vec<Addr> = ts.into_iter().chain(vs).collect();
        outcomes.push((limit, calls, finalized_state(&suite, task, &everyone)));
    }
    let (_, _, reference) = &outcomes[0];
    assert!(reference.len() > 100 && ["Outlier", "Liveness"].iter().all(|r| reference.iter().any(|s| s.contains(r))));
    for (limit, _, state) in &outcomes[1..] {
        for (a, b) in reference.iter().zip(state) {
            assert_eq!(a, b, "page limit {limit} differs from limit 1");
        }
        assert_eq!(reference.len(), state.len());
    }
    let calls: Vec<u32> = outcomes.iter().map(|o| o.1).collect();
    assert!(calls[0] > calls[1] && calls[1] > calls[2] && calls[2] <= 2, "calls per limit: {calls:?}");
}

/// Anyone can replay an assignment from queries alone: the validators' slots, their sampling
/// weights as frozen for the round (`StakeAt`), the round's seed and arena-types' sampling. The contract's tree grew from one slot to
/// 64 as the 40 validators joined; the replay uses a tree built at full size, and finds the same.
#[test]
fn assignments_replay_off_chain_from_queries() {
    use arena_types::market::commitment::assignment_seed;
    use arena_types::market::sampling::MemoryTree;

    let (mut suite, task, _, _, vs) = large_round();
    // Stake moved after the round froze changes nothing in the replay.
    suite.stake(&vs[0], task, Role::Validator, 50_000).unwrap();
    let mut tree = MemoryTree::new(64);
    let mut by_slot = std::collections::BTreeMap::new();
    for v in &vs {
        let slot = suite.participant(task, v).slot.unwrap();
        tree.set_weight(slot, suite.stake_at(task, v, 1).sampling_weight.u128());
        by_slot.insert(slot, v.clone());
    }
    let seed = suite.round(task, 1).seed.unwrap().to_array::<32>().unwrap();
    let k = suite.task(task).params.validators_per_submission;
    for id in 1..=60u64 {
        let picks = tree.sample(&assignment_seed(task, 1, id, &seed), k, vs.len() as u32);
        let mut expected: Vec<Addr> = picks.iter().map(|slot| by_slot[slot].clone()).collect();
        expected.sort();
        // The contract lists assignments in address order.
        assert_eq!(suite.assigned_validators(task, id), expected, "submission {id}");
    }
}
