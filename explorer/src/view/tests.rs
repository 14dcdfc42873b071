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
    let v = task(&Reader::new(&s), 1, Some(1), None).await.unwrap();
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
    let current = task(&Reader::new(&s), 1, None, None).await.unwrap();
    assert_eq!((current.round.round, current.round.finalized), (2, false));
    assert!(current.leaderboard.iter().all(|r| r.status == "Pending" && r.consensus.is_none()));
}

#[tokio::test]
async fn a_long_round_is_read_a_page_at_a_time() {
    let s = source(120, 20);
    let first = task(&Reader::new(&s), 1, Some(1), None).await.unwrap();
    assert_eq!(first.leaderboard.len(), LEADERBOARD_PAGE as usize);
    assert_eq!(first.next_after, Some(50));
    let second = task(&Reader::new(&s), 1, Some(1), first.next_after).await.unwrap();
    assert_eq!(second.leaderboard.first().map(|r| r.id), Some(51));
    let third = task(&Reader::new(&s), 1, Some(1), Some(100)).await.unwrap();
    assert_eq!((third.leaderboard.len(), third.next_after), (20, None));
    // Every assignment of the round is counted, across the contract's pages of 100.
    assert_eq!(first.validators.iter().map(|x| x.assigned).sum::<u32>(), 360);
}

#[tokio::test]
async fn a_missing_task_or_round_is_not_found() {
    let s = source(2, 3);
    assert!(matches!(task(&Reader::new(&s), 9, None, None).await, Err(SourceError::NotFound(_))));
    assert!(matches!(task(&Reader::new(&s), 1, Some(3), None).await, Err(SourceError::NotFound(_))));
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
