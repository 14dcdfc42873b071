//! Every view model from fixed query responses (the fixture's seeded competition).

use super::*;
use crate::fixture::{self, competition, FakeSource, RECIPIENT};

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
    let assigned: u32 = v.validators.iter().map(|x| x.assigned).sum();
    assert_eq!(assigned, 15, "three validators per submission, five submissions");
    assert_eq!(v.rounds.iter().map(|r| r.finalized).collect::<Vec<_>>(), vec![true, false]);
    // Without a round, the current one.
    let current = task(&Reader::new(&s), 1, None, PageStart::First).await.unwrap();
    assert_eq!((current.round.round, current.round.finalized, current.ranked), (2, false, false));
    assert!(current.leaderboard.iter().all(|r| r.status == "Pending" && r.consensus.is_none()));
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
    let v = participant(&Reader::new(&s), &fixture::trainer(1)).await.unwrap();
    assert_eq!(v.claimable, Uint128::new(500_000));
    assert_eq!(v.tasks.len(), 1);
    assert_eq!((v.tasks[0].role.as_deref(), v.tasks[0].own), (Some("trainer"), Uint128::new(1_000_000)));
    let stranger = participant(&Reader::new(&s), &fixture::address(77)).await;
    assert!(matches!(stranger, Err(SourceError::NotFound(m)) if m.contains("no stake")));
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
