//! Every view model from fixed query responses (the fixture's seeded competition).

use super::*;
use crate::fixture::{self, competition, FakeSource, World, RECIPIENT};

/// Round 1 (heights 100..270) finalized; round 2's submission phase (270..330) at height 280.
const HEIGHT: u64 = 280;

fn source(trainers: u32, validators: u32) -> FakeSource {
    FakeSource::new(competition(2, trainers, validators, HEIGHT), HEIGHT)
}

#[tokio::test]
async fn the_overview_lists_the_task_with_its_round_phase_and_the_totals() {
    let s = source(5, 4);
    let v = overview(&Reader::new(&s), None).await.unwrap();
    assert_eq!(v.tasks.len(), 1);
    let t = &v.tasks[0];
    assert_eq!((t.id, t.round, t.rounds, t.phase.as_str(), t.rounds_finalized), (1, 2, 2, "submission", 1));
    assert_eq!((t.trainers, t.validators, t.finished), (5, 4, false));
    assert_eq!(v.totals.staked, Uint128::new(9_000_000));
    assert_eq!(v.totals.rewarded, Uint128::new(4_999_990));
    let settlement = v.settlement.unwrap();
    assert_eq!((settlement.batches, settlement.sealed_amount), (2, Uint128::new(4_200_000)));
    assert_eq!((v.chain.height, v.next_after), (HEIGHT, None));
    assert_eq!(v.queries, 2, "one Tasks page and the Outbox");
}

#[test]
fn the_phase_clock_counts_blocks_and_seconds_to_the_next_phase() {
    let t = &competition(2, 1, 3, HEIGHT).tasks[0];
    let c = PhaseClock::new(&t.schedule, HEIGHT, Some(0.2));
    assert_eq!((c.round, c.phase.as_str(), c.next.as_str()), (2, "submission", "model reveal"));
    assert_eq!((c.phase_start, c.ends_at, c.remaining), (270, 330, 50));
    assert!((c.progress - 10.0 / 60.0).abs() < 1e-9);
    assert!((c.remaining_seconds.unwrap() - 10.0).abs() < 1e-9);
    // The last round's reveal phase leads to the end; after it, the clock is closed.
    let reveal = PhaseClock::new(&t.schedule, 100 + 170 + 130 + 5, None);
    assert_eq!((reveal.phase.as_str(), reveal.next.as_str(), reveal.remaining_seconds), ("reveal", "end", None));
    let closed = PhaseClock::new(&t.schedule, 10_000, Some(0.2));
    assert_eq!((closed.phase.as_str(), closed.remaining, closed.progress), ("closed", 0, 1.0));
}

#[tokio::test]
async fn the_task_view_has_the_ranked_leaderboard_chart_and_validators_of_the_round() {
    let s = source(5, 4);
    let v = task(&Reader::new(&s), 1, Some(1), PageStart::First).await.unwrap();
    assert_eq!(v.round.round, 1);
    assert!(v.round.finalized);
    let ids: Vec<u64> = v.leaderboard.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5], "ranked best first");
    assert_eq!(v.leaderboard[0].consensus, Some(901_000));
    assert_eq!(v.leaderboard[0].status, "Scored");
    assert_eq!(v.leaderboard[0].model.as_deref(), Some("mlp mlp:8"));
    assert_eq!(v.chart[0].round, 1);
    assert_eq!(v.chart[0].scores, vec![901_000, 900_300, 899_600, 898_900, 898_200]);
    assert!(v.chart[1].scores.is_empty(), "round 2 is not ranked yet");
    assert_eq!(v.validators.len(), 4);
    let liar = v.validators.iter().find(|x| x.address == fixture::validator(0)).unwrap();
    assert_eq!((liar.in_consensus, liar.mean_deviation), (0, Some(300_000)));
    assert!(liar.reveals > 0 && liar.slashed_in_round.u128() == 50_000 * u128::from(liar.reveals));
    let honest = v.validators.iter().find(|x| x.address == fixture::validator(1)).unwrap();
    assert_eq!((honest.in_consensus, honest.mean_deviation), (honest.reveals, Some(0)));
    // The round's pay, summed over its two finalization transactions; the liar earned nothing.
    for x in &v.validators {
        let j = (0..4).find(|&j| fixture::validator(j) == x.address).unwrap();
        let expected = if j == 0 { 0 } else { fixture::validator_reward(1, j) };
        assert_eq!(x.reward_in_round, Some(Uint128::new(expected)), "validator {j}");
    }
    let assigned: u32 = v.validators.iter().map(|x| x.assigned).sum();
    assert_eq!(assigned, 15, "three validators per submission, five submissions");
    assert_eq!(v.rounds.iter().map(|r| r.finalized).collect::<Vec<_>>(), vec![true, false]);
    // Without a round, the current one.
    let current = task(&Reader::new(&s), 1, None, PageStart::First).await.unwrap();
    assert_eq!((current.round.round, current.round.finalized, current.ranked), (2, false, false));
    assert!(current.leaderboard.iter().all(|r| r.status == "Pending" && r.consensus.is_none()));
    assert!(current.validators.iter().all(|x| x.reward_in_round.is_none()), "paid at finalization");
}

/// A leaderboard page: (id, rank) of each row, and the next page's start.
async fn board(s: &FakeSource, round: u32, start: PageStart) -> (Vec<(u64, Option<u32>)>, PageStart, TaskView) {
    let v = task(&Reader::new(s), 1, Some(round), start).await.unwrap();
    let rows = v.leaderboard.iter().map(|r| (r.id, r.rank)).collect();
    let next = match (v.next_after_rank, v.next_after) {
        (Some(rank), None) => PageStart::AfterRank(rank),
        (None, Some(id)) => PageStart::AfterId(id),
        (None, None) => PageStart::First,
        both => panic!("two next pages: {both:?}"),
    };
    (rows, next, v)
}

#[tokio::test]
async fn a_long_round_is_read_a_page_at_a_time() {
    let s = source(120, 20);
    let (first, next, v) = board(&s, 1, PageStart::First).await;
    assert!(v.ranked);
    assert_eq!(first.len(), LEADERBOARD_PAGE as usize);
    assert_eq!(next, PageStart::AfterRank(49));
    let (second, next, _) = board(&s, 1, next).await;
    assert_eq!(second.first(), Some(&(51, Some(50))));
    let (third, next, _) = board(&s, 1, next).await;
    assert_eq!((third.len(), third.first(), next), (20, Some(&(101, Some(100))), PageStart::First));
    // Every assignment of the round is counted, across the contract's pages of 100.
    assert_eq!(v.validators.iter().map(|x| x.assigned).sum::<u32>(), 360);
}

/// Walks every page of a round's leaderboard: the rows in order, the queries of each page.
async fn every_page(s: &FakeSource, round: u32) -> (Vec<Vec<(u64, Option<u32>)>>, Vec<u32>) {
    let (mut pages, mut queries, mut start) = (Vec::new(), Vec::new(), PageStart::First);
    loop {
        let (rows, next, v) = board(s, round, start).await;
        assert!(rows.len() <= LEADERBOARD_PAGE as usize);
        pages.push(rows);
        queries.push(v.queries);
        if next == PageStart::First {
            return (pages, queries);
        }
        start = next;
    }
}

#[tokio::test]
async fn a_ranked_round_pages_in_rank_order_then_the_unranked_by_id() {
    // 120 submissions, every 6th unranked: ranks 0..=99 not in id order, 20 unranked.
    let mut world = competition(2, 120, 20, HEIGHT);
    fixture::scramble_ranks(&mut world, 1, 6);
    let s = FakeSource::new(world, HEIGHT);
    let (pages, queries) = every_page(&s, 1).await;
    assert_eq!(pages.len(), 3);
    let ranks = |page: &[(u64, Option<u32>)]| page.iter().map(|r| r.1).collect::<Vec<_>>();
    assert_eq!(ranks(&pages[0]), (0..50).map(Some).collect::<Vec<_>>(), "ranks 1 to 50");
    assert_eq!(ranks(&pages[1]), (50..100).map(Some).collect::<Vec<_>>(), "ranks 51 to 100");
    let ids: Vec<u64> = pages[0].iter().map(|r| r.0).collect();
    assert!(ids.windows(2).any(|w| w[0] > w[1]), "the ranks are not in id order: {ids:?}");
    assert_eq!(pages[2].iter().map(|r| r.0).collect::<Vec<_>>(), (1..=20).map(|k| 6 * k).collect::<Vec<_>>());
    assert!(ranks(&pages[2]).iter().all(Option::is_none));
    // The rows carry the submissions' fields, the unranked ones their status.
    let v = task(&Reader::new(&s), 1, Some(1), PageStart::First).await.unwrap();
    let best = &v.leaderboard[0];
    let expected = s.world.submissions.iter().find(|x| x.rank == Some(0)).unwrap();
    assert_eq!(best, &LeaderRow::from(expected));
    assert_eq!((best.status.as_str(), best.reward, best.model.is_some()), ("Scored", Uint128::new(1_000_000), true));
    let tail = task(&Reader::new(&s), 1, Some(1), PageStart::AfterRank(99)).await.unwrap();
    let statuses: Vec<&str> = tail.leaderboard.iter().take(5).map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["Unrevealed", "Duplicate", "Unscored", "BelowBaseline", "BelowMinScore"]);
    assert_eq!((tail.leaderboard[0].consensus, tail.leaderboard[0].model.as_deref()), (None, None));
    assert!(tail.leaderboard[3].consensus.is_some(), "below the baseline has a consensus but no rank");
    // A ranked page costs one Ranking query; the unranked part none: the rows come from the
    // round's submissions, which the validators' table reads anyway.
    assert_eq!(queries[0], queries[1]);
    assert_eq!(queries[2] + 1, queries[0]);
}

#[tokio::test]
async fn a_page_can_end_the_ranking_and_start_the_unranked_part() {
    // 160 submissions, every 3rd unranked: 107 ranked, 53 unranked.
    let mut world = competition(2, 160, 20, HEIGHT);
    fixture::scramble_ranks(&mut world, 1, 3);
    let s = FakeSource::new(world, HEIGHT);
    let (pages, _) = every_page(&s, 1).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 50, 10]);
    let rows: Vec<(u64, Option<u32>)> = pages.concat();
    let ranks: Vec<u32> = rows.iter().filter_map(|r| r.1).collect();
    assert_eq!(ranks, (0..107).collect::<Vec<_>>(), "every rank once, in order");
    let unranked: Vec<u64> = rows[107..].iter().map(|r| r.0).collect();
    assert_eq!(unranked, (1..=53).map(|k| 3 * k).collect::<Vec<_>>(), "then the unranked ones by id");
    // The last ranks and the first unranked rows share the third page.
    assert_eq!((pages[2][6].1, pages[2][7].1), (Some(106), None));
    // The JSON API has the same order.
    let v = task(&Reader::new(&s), 1, Some(1), PageStart::AfterRank(99)).await.unwrap();
    let json = serde_json::to_value(&v).unwrap();
    let api: Vec<u64> = json["leaderboard"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(api, pages[2].iter().map(|r| r.0).collect::<Vec<_>>());
    assert_eq!((json["ranked"].as_bool(), json["after_rank"].as_u64()), (Some(true), Some(99)));
    assert_eq!(json["next_after"].as_u64(), Some(rows[149].0));
}

#[tokio::test]
async fn a_round_not_ranked_yet_lists_its_submissions_by_id() {
    // Round 2 is in its submission phase: nothing is ranked; no Ranking page is asked for.
    let s = source(120, 20);
    let (pages, _) = every_page(&s, 2).await;
    assert!(pages.iter().flatten().all(|r| r.1.is_none()));
    let ids: Vec<u64> = pages.concat().iter().map(|r| r.0).collect();
    assert_eq!(ids, (121..=240).collect::<Vec<_>>());
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    let v = task(&Reader::new(&s), 1, Some(2), PageStart::AfterId(170)).await.unwrap();
    assert_eq!((v.ranked, v.after, v.next_after, v.leaderboard[0].id), (false, Some(170), Some(220), 171));
    // A rank cursor on a round without ranks starts from the first submission.
    let v = task(&Reader::new(&s), 1, Some(2), PageStart::AfterRank(49)).await.unwrap();
    assert_eq!(v.leaderboard[0].id, 121);
    // Nor is a finalized but void round ranked: the market ranks nothing in it.
    let mut world = competition(2, 60, 4, HEIGHT);
    let round = world.rounds.iter_mut().find(|r| r.round == 1).unwrap();
    round.void = true;
    for x in world.submissions.iter_mut().filter(|x| x.round == 1) {
        (x.rank, x.status) = (None, SubmissionStatus::Void);
    }
    let s = FakeSource::new(world, HEIGHT);
    let v = task(&Reader::new(&s), 1, Some(1), PageStart::First).await.unwrap();
    assert!(!v.ranked && v.round.finalized);
    assert_eq!(v.leaderboard.iter().map(|r| r.id).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_missing_task_or_round_is_not_found() {
    let s = source(2, 3);
    assert!(matches!(task(&Reader::new(&s), 9, None, PageStart::First).await, Err(SourceError::NotFound(_))));
    assert!(matches!(task(&Reader::new(&s), 1, Some(3), PageStart::First).await, Err(SourceError::NotFound(_))));
    assert!(matches!(submission(&Reader::new(&s), 1, 999).await, Err(SourceError::NotFound(_))));
}

#[tokio::test]
async fn a_submission_shows_every_validators_score_beside_the_consensus() {
    let s = source(5, 4);
    let v = submission(&Reader::new(&s), 1, 1).await.unwrap();
    assert_eq!((v.row.consensus, v.round), (Some(901_000), 1));
    assert_eq!(v.scores.len(), 3);
    for row in &v.scores {
        let lying = row.validator == fixture::validator(0);
        assert_eq!(row.deviation, Some(if lying { 300_000 } else { 0 }), "{row:?}");
        assert_eq!(row.standing.as_deref(), Some(if lying { "Outlier" } else { "InConsensus" }));
    }
}

#[tokio::test]
async fn a_participant_has_its_role_stake_and_claimable_rewards_and_an_unknown_one_is_not_found() {
    let s = source(5, 4);
    let v = participant(&Reader::new(&s), &fixture::trainer(1), 1).await.unwrap();
    assert_eq!(v.claimable, Uint128::new(500_000));
    assert_eq!(v.tasks.len(), 1);
    assert_eq!((v.tasks[0].role.as_deref(), v.tasks[0].own), (Some("trainer"), Uint128::new(1_000_000)));
    let stranger = participant(&Reader::new(&s), &fixture::address(77), 1).await;
    assert!(matches!(stranger, Err(SourceError::NotFound(m)) if m.contains("no stake")));
}

#[tokio::test]
async fn a_participant_sees_its_withdrawals_with_their_batch_status_and_proof() {
    let mut world = competition(2, 5, 4, HEIGHT);
    // Trainer 0 withdrew 1.5 into batch 1 (confirmed); now 0.3 more, queued.
    let queued_tx = fixture::withdraw(&mut world, &fixture::trainer(0), RECIPIENT, 300_000, 420);
    let s = FakeSource::new(world, HEIGHT);
    let v = participant(&Reader::new(&s), &fixture::trainer(0), 1).await.unwrap();
    let w = v.withdrawals.as_ref().unwrap();
    assert_eq!((w.total, w.page, w.pages, w.rows.len(), v.withdrawals_error.as_deref()), (2, 1, 1, 2, None));
    let newest = &w.rows[0];
    assert_eq!((newest.tx_hash.as_str(), newest.height), (queued_tx.as_str(), 420));
    assert_eq!((newest.amount, newest.evm_recipient.as_str()), (Uint128::new(300_000), RECIPIENT));
    assert_eq!(
        (newest.withdrawal_id, newest.status.as_str(), newest.claim.as_ref()),
        (Some(3), "not sealed yet", None)
    );
    let sealed = &w.rows[1];
    assert_eq!(
        (sealed.withdrawal_id, sealed.amount, sealed.status.as_str()),
        (Some(0), Uint128::new(1_500_000), "confirmed")
    );
    let claim = sealed.claim.as_ref().unwrap();
    let proof = s.world.proofs.iter().find(|p| p.leaf.withdrawal_id == 0).unwrap();
    assert_eq!((claim.batch_id, claim.index, claim.amount), (1, 0, Uint128::new(1_500_000)));
    assert_eq!((&claim.root, &claim.proof), (&proof.root, &proof.proof));
    assert!(claim.proof_verified);
    assert!(claim
        .claim_command
        .starts_with(&format!("arena-relayer claim --batch 1 --key-file evm.key --recipient {RECIPIENT}")));
    // The same leaf as the recipient's page shows.
    let r = recipient(&Reader::new(&s), RECIPIENT).await.unwrap();
    assert_eq!(r.claims, vec![claim.clone()]);
    // Trainer 1's withdrawal shares batch 1 (leaf 1); trainer 2's is batch 2, still collecting attestations.
    let v1 = participant(&Reader::new(&s), &fixture::trainer(1), 1).await.unwrap();
    let c1 = v1.withdrawals.unwrap().rows[0].claim.clone().unwrap();
    assert_eq!((c1.batch_id, c1.index, c1.proof_verified), (1, 1, true));
    let v2 = participant(&Reader::new(&s), &fixture::trainer(2), 1).await.unwrap();
    let row = &v2.withdrawals.unwrap().rows[0];
    assert_eq!(
        (row.claim.as_ref().map(|c| (c.batch_id, c.index)), row.status.as_str()),
        (Some((2, 0)), "sealed, 1 attestations")
    );
    // Nobody else's withdrawal shows; an account that only withdrew is found by its withdrawals.
    assert_eq!(participant(&Reader::new(&s), &fixture::validator(1), 1).await.unwrap().withdrawals.unwrap().total, 0);
}

#[tokio::test]
async fn an_account_known_only_by_a_withdrawal_is_found_and_another_bridge_is_named() {
    let mut world = competition(2, 2, 3, HEIGHT);
    let leaver = fixture::address(77);
    fixture::withdraw(&mut world, &leaver, RECIPIENT, 800_000, 410);
    fixture::seal(&mut world, 411, false);
    // A withdrawal from before the market moved to another bridge.
    fixture::withdraw(&mut world, &leaver, RECIPIENT, 100_000, 300);
    let old = world.txs.last_mut().unwrap();
    for (k, v) in old.events.iter_mut().flat_map(|e| e.attributes.iter_mut()) {
        if (k == "bridge" || k == "_contract_address") && v == fixture::BRIDGE {
            *v = "inj1oldbridge".into();
        }
    }
    world.queue.pop();
    let s = FakeSource::new(world, HEIGHT);
    let v = participant(&Reader::new(&s), &leaver, 1).await.unwrap();
    assert!(v.tasks.is_empty() && v.claimable.is_zero());
    let rows = v.withdrawals.unwrap().rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].status.as_str(), rows[0].claim.as_ref()),
        ("sent to the bridge inj1oldbridge, not this deployment's", None)
    );
    assert_eq!(rows[1].claim.as_ref().map(|c| (c.batch_id, c.index)), Some((3, 0)));
}

#[tokio::test]
async fn withdrawals_are_placed_in_the_right_batch_among_many_and_paged_newest_first() {
    let mut world = competition(2, 2, 3, HEIGHT);
    let me = fixture::address(500);
    let others = [fixture::address(501), fixture::address(502)];
    // 150 withdrawals, one in three mine, sealed into batches of 1 to 7 leaves; the last few queued.
    for k in 0..150u64 {
        let who = if k % 3 == 0 { &me } else { &others[(k % 2) as usize] };
        fixture::withdraw(&mut world, who, RECIPIENT, 1_000_000 + u128::from(k), 500 + k);
        if k % 7 == (k / 7) % 7 && k < 140 {
            fixture::seal(&mut world, 500 + k, k % 2 == 0);
        }
    }
    let batches = world.batches.len() as u64;
    assert!(batches > 15, "{batches} batches");
    let s = FakeSource::new(world, HEIGHT);
    let (mut seen, mut page, mut max_queries) = (Vec::new(), 1, 0);
    loop {
        let r = Reader::new(&s);
        let v = participant(&r, &me, page).await.unwrap();
        let w = v.withdrawals.unwrap();
        assert_eq!((w.total, w.pages), (50, 3));
        assert!(w.rows.len() <= WITHDRAWALS_PAGE as usize);
        max_queries = max_queries.max(v.queries);
        seen.extend(w.rows);
        if page == w.pages {
            break;
        }
        page += 1;
    }
    let ids: Vec<u64> = seen.iter().filter_map(|row| row.withdrawal_id).collect();
    // The seeded world's three withdrawals came first: ids 0 to 2.
    let expected: Vec<u64> = (0..150).rev().filter(|k| k % 3 == 0).map(|k| k + 3).collect();
    assert_eq!(ids, expected, "every one, newest first");
    for row in &seen {
        let id = row.withdrawal_id.unwrap();
        match s.world.leaves.iter().find(|l| l.withdrawal_id == id) {
            Some(leaf) => {
                let claim = row.claim.as_ref().unwrap();
                assert_eq!(
                    (claim.batch_id, claim.index, claim.amount),
                    (leaf.batch_id, leaf.index, leaf.amount),
                    "withdrawal {id}"
                );
                assert!(claim.proof_verified);
            }
            None => assert_eq!((row.status.as_str(), row.claim.as_ref()), ("not sealed yet", None), "withdrawal {id}"),
        }
    }
    // A page of 20 costs the search, the queue and outbox, a batch and a proof per sealed row,
    // and the binary search's first leaves (each batch asked once a page at most).
    assert!(max_queries <= 3 + 2 + 2 * 20 + batches as u32, "{max_queries} queries");
    // A page past the last is the node's refusal, shown beside the rest of the page.
    let v = participant(&Reader::new(&s), &me, 4).await.unwrap();
    assert!(v.withdrawals.is_none() && v.withdrawals_error.unwrap().contains("page should be within [1, 3]"));
}

#[tokio::test]
async fn two_withdrawals_of_one_transaction_are_found_in_their_own_batches() {
    let mut world = competition(2, 2, 3, HEIGHT);
    let me = fixture::address(600);
    fixture::withdraw(&mut world, &me, RECIPIENT, 400_000, 420);
    fixture::seal(&mut world, 421, false);
    fixture::withdraw(&mut world, &me, RECIPIENT, 500_000, 420);
    fixture::seal(&mut world, 422, false);
    // One transaction held both (as a multi-message transaction would): its events in order.
    let second = world.txs.pop().unwrap();
    world.txs.last_mut().unwrap().events.extend(second.events);
    let s = FakeSource::new(world, HEIGHT);
    let rows = participant(&Reader::new(&s), &me, 1).await.unwrap().withdrawals.unwrap().rows;
    let placed: Vec<_> =
        rows.iter().map(|r| (r.withdrawal_id, r.claim.as_ref().map(|c| (c.batch_id, c.index)))).collect();
    assert_eq!(placed, vec![(Some(3), Some((3, 0))), (Some(4), Some((4, 0)))]);
}

#[tokio::test]
async fn a_node_without_a_transaction_index_leaves_the_rest_of_the_participant_page() {
    let mut s = source(5, 4);
    s.search_fail = Some(SourceError::Upstream("transaction indexing is disabled".into()));
    let v = participant(&Reader::new(&s), &fixture::trainer(1), 1).await.unwrap();
    assert_eq!((v.claimable, v.tasks.len(), v.withdrawals.as_ref()), (Uint128::new(500_000), 1, None));
    assert!(v.withdrawals_error.unwrap().contains("transaction indexing is disabled"));
}

#[test]
fn withdrawals_in_one_transaction_pair_with_the_bridges_events_in_order() {
    let mut world = World::default();
    let (a, b) = (fixture::address(1), fixture::address(2));
    fixture::withdraw(&mut world, &a, RECIPIENT, 5, 10);
    fixture::withdraw(&mut world, &b, RECIPIENT, 5, 10);
    fixture::withdraw(&mut world, &a, RECIPIENT, 5, 10);
    // One transaction with the three withdrawals' events, in order.
    let mut tx = world.txs[0].clone();
    tx.events = world.txs.iter().flat_map(|t| t.events.clone()).collect();
    let mine: Vec<(Option<u64>, Uint128)> =
        withdrawals_in(&tx, fixture::MARKET, &a).into_iter().map(|w| (w.withdrawal_id, w.amount)).collect();
    assert_eq!(mine, vec![(Some(0), Uint128::new(5)), (Some(2), Uint128::new(5))]);
    assert_eq!(withdrawals_in(&tx, fixture::MARKET, &b)[0].withdrawal_id, Some(1));
    assert!(withdrawals_in(&tx, "inj1othermarket", &a).is_empty());
    assert_eq!(
        withdrawals_query(fixture::MARKET, &a),
        format!("wasm._contract_address='inj1market' AND wasm.action='withdraw_to_evm' AND wasm.address='{a}'")
    );
}

#[tokio::test]
async fn a_recipient_sees_its_leaf_with_a_proof_that_checks_and_the_claim_command() {
    let s = source(2, 3);
    let v = recipient(&Reader::new(&s), &RECIPIENT.to_ascii_lowercase()).await.unwrap();
    assert_eq!(v.searched, Some((1, 2)));
    assert_eq!(v.claims.len(), 1);
    let c = &v.claims[0];
    assert_eq!((c.batch_id, c.index, c.amount, c.batch_status.as_str()), (1, 0, Uint128::new(1_500_000), "confirmed"));
    assert!(c.proof_verified, "{c:?}");
    assert_eq!(c.proof.len(), 1);
    assert_eq!(
        c.claim_command,
        format!("arena-relayer claim --batch 1 --key-file evm.key --recipient {RECIPIENT} --settlement 0x00000000000000000000000000000000000000aa")
    );
}

#[tokio::test]
async fn settlement_lists_batches_newest_first_with_their_stage() {
    let s = source(2, 3);
    let v = settlement(&Reader::new(&s), None).await.unwrap();
    let rows: Vec<(u64, &str)> = v.batches.iter().map(|b| (b.batch_id, b.status.as_str())).collect();
    assert_eq!(rows, vec![(2, "sealed, attested 1 of 2"), (1, "confirmed")]);
    assert!(v.batches[1].evm_tx_hash.is_some() && v.batches[0].evm_tx_hash.is_none());
    assert_eq!((v.threshold, v.next_before), (2, None));
    let older = settlement(&Reader::new(&s), Some(2)).await.unwrap();
    assert_eq!(older.batches.iter().map(|b| b.batch_id).collect::<Vec<_>>(), vec![1]);
    let b = batch(&Reader::new(&s), 1, None).await.unwrap();
    assert_eq!((b.leaves.len(), b.batch.count, b.confirmations.len()), (2, 2, 1));
    assert!(matches!(batch(&Reader::new(&s), 5, None).await, Err(SourceError::NotFound(_))));
}

#[test]
fn amounts_read_as_tokens_with_six_decimals() {
    assert_eq!(tokens(Uint128::new(1_234_567)), "1.234567");
    assert_eq!(tokens(Uint128::new(5)), "0.000005");
}
