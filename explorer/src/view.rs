//! View models: what each page (and its `/api/` twin) shows, built from the contracts' queries.
//! Pure data, serialized as the JSON API; [`crate::pages`] renders them as HTML.

use std::collections::BTreeMap;

use arena_types::market::median::Standing;
use arena_types::market::msg::{
    AssignmentsResponse, DelegationsResponse, FinalizeStage, ParticipantResponse, ParticipantsResponse, QueryMsg,
    RankEntry, RankingResponse, RewardsResponse, Role, RoundResponse, SubmissionResponse, SubmissionStatus,
    SubmissionsResponse, TaskResponse, TasksResponse,
};
use arena_types::market::phase::{Clock, Phase, Schedule};
use arena_types::settlement::msg::{
    AttestationsResponse, BatchResponse, BatchStatus, BatchesResponse, ConfigResponse as BridgeConfig, LeavesResponse,
    OutboxResponse, ProofResponse, QueryMsg as BridgeQuery, WithdrawalsResponse,
};
use cosmwasm_std::Uint128;
use futures::future::{join_all, try_join_all};
use serde::Serialize;

use crate::data::{optional, Reader, QUERY_PAGE};
use crate::source::{FoundTx, Head, RelayerState, Source, SourceError};

/// Leaderboard rows per page.
pub const LEADERBOARD_PAGE: u32 = 50;
/// Tasks per overview page.
pub const TASKS_PAGE: u32 = 30;
/// Batches per settlement page.
pub const BATCHES_PAGE: u32 = 20;
/// Rounds the score chart shows (the latest ones) and the scores per round it plots (the best).
pub const CHART_ROUNDS: u32 = 20;
pub const CHART_SCORES: u32 = 10;
/// Finalization transactions read per search page (a round of 1,000 submissions at k = 9
/// finalizes in about 73 pages).
pub const FINALIZE_TXS_PAGE: u32 = 100;
/// Batches the EVM-address page searches for the address's leaves (the newest ones).
pub const CLAIM_SEARCH_BATCHES: u64 = 20;
/// A participant's withdrawals to the EVM side per page, newest first.
pub const WITHDRAWALS_PAGE: u32 = 20;

/// The chain as the header of every page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainView {
    pub chain_id: String,
    pub height: u64,
    pub time: u64,
    pub block_seconds: Option<f64>,
    pub reachable: bool,
    pub error: Option<String>,
}

impl ChainView {
    pub fn new(chain_id: &str, head: &Head) -> Self {
        ChainView {
            chain_id: chain_id.to_string(),
            height: head.height,
            time: head.time,
            block_seconds: head.block_seconds,
            reachable: head.reachable,
            error: head.error.clone(),
        }
    }
}

fn chain<S: Source>(r: &Reader<'_, S>) -> ChainView {
    ChainView::new(&r.source().deployment().chain_id, &r.source().head())
}

pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Submission => "submission",
        Phase::ModelReveal => "model reveal",
        Phase::Commit => "commit",
        Phase::Reveal => "reveal",
        Phase::Closed => "closed",
    }
}

pub fn status_name(status: SubmissionStatus) -> &'static str {
    match status {
        SubmissionStatus::Pending => "Pending",
        SubmissionStatus::Unrevealed => "Unrevealed",
        SubmissionStatus::Duplicate => "Duplicate",
        SubmissionStatus::Unscored => "Unscored",
        SubmissionStatus::BelowMinScore => "BelowMinScore",
        SubmissionStatus::BelowBaseline => "BelowBaseline",
        SubmissionStatus::Scored => "Scored",
        SubmissionStatus::Void => "Void",
    }
}

// ---------------------------------------------------------------------------------------------
// Overview

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    pub chain: ChainView,
    pub tasks: Vec<TaskRow>,
    /// Pass as `?after=` for the next page of tasks.
    pub next_after: Option<u64>,
    /// Sums over the tasks of this page.
    pub totals: Totals,
    pub settlement: Option<OutboxView>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskRow {
    pub id: u64,
    pub metric: String,
    pub creator: String,
    pub round: u32,
    pub rounds: u32,
    pub phase: String,
    pub rounds_finalized: u32,
    pub pool: Uint128,
    pub trainers: u32,
    pub validators: u32,
    /// Every round finalized.
    pub finished: bool,
}

impl TaskRow {
    pub fn new(t: &TaskResponse) -> Self {
        TaskRow {
            id: t.id,
            metric: t.params.metric.name.clone(),
            creator: t.creator.to_string(),
            round: t.now.round,
            rounds: t.params.rounds,
            phase: phase_name(t.now.phase).to_string(),
            rounds_finalized: t.rounds_finalized,
            pool: t.accounts.pool,
            trainers: t.trainers,
            validators: t.validators,
            finished: t.rounds_finalized >= t.params.rounds,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub tasks: u32,
    pub staked: Uint128,
    pub unbonding: Uint128,
    pub pool: Uint128,
    /// Credited as rewards so far.
    pub rewarded: Uint128,
    pub slashed: Uint128,
}

impl Totals {
    pub fn of(tasks: &[TaskResponse]) -> Self {
        let mut t = Totals::default();
        for task in tasks {
            t.tasks += 1;
            t.staked += task.accounts.stake;
            t.unbonding += task.accounts.unbonding;
            t.pool += task.accounts.pool;
            t.rewarded += task.accounts.rewarded;
            t.slashed += task.accounts.slashed;
        }
        t
    }
}

/// The bridge's outbox: what went to the EVM side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutboxView {
    pub queued_count: u64,
    pub queued_amount: Uint128,
    /// Sealed into batches for the EVM side.
    pub sealed_amount: Uint128,
    pub batches: u64,
}

impl From<OutboxResponse> for OutboxView {
    fn from(o: OutboxResponse) -> Self {
        OutboxView {
            queued_count: o.queued_count,
            queued_amount: o.queued_amount,
            sealed_amount: o.sealed_amount,
            batches: o.next_batch_id.saturating_sub(1),
        }
    }
}

pub async fn overview<S: Source>(r: &Reader<'_, S>, after: Option<u64>) -> Result<Overview, SourceError> {
    let tasks_query = QueryMsg::Tasks { start_after: after, limit: Some(TASKS_PAGE) };
    let (tasks, outbox) = futures::join!(r.market::<TasksResponse>(&tasks_query), async {
        if r.has_bridge() {
            r.bridge::<OutboxResponse>(&BridgeQuery::Outbox {}).await.map(Some)
        } else {
            Ok(None)
        }
    });
    let tasks = tasks?.tasks;
    let next_after = (tasks.len() as u32 == TASKS_PAGE).then(|| tasks.last().map(|t| t.id)).flatten();
    Ok(Overview {
        chain: chain(r),
        totals: Totals::of(&tasks),
        tasks: tasks.iter().map(TaskRow::new).collect(),
        next_after,
        settlement: outbox?.map(OutboxView::from),
        queries: r.queries(),
    })
}

// ---------------------------------------------------------------------------------------------
// Task

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskView {
    pub chain: ChainView,
    pub id: u64,
    pub creator: String,
    pub metric: String,
    pub metric_description: String,
    /// The parameters in words: (what, value).
    pub parameters: Vec<(String, String)>,
    pub clock: PhaseClock,
    pub accounts: Totals,
    /// Every round with its phase, for the round picker.
    pub rounds: Vec<RoundTab>,
    /// The round shown.
    pub round: RoundView,
    /// Whether finalization has ranked the round: its leaderboard is then in rank order, best
    /// first, followed by the unranked submissions by id; otherwise every submission by id.
    pub ranked: bool,
    /// One page of the round's leaderboard, [`LEADERBOARD_PAGE`] rows.
    pub leaderboard: Vec<LeaderRow>,
    /// Where this page starts: after this rank (`?after_rank=`, from 0, the ranked part of a
    /// ranked round) or after this submission id (`?after=`: the unranked part of a ranked round,
    /// or every submission of a round not ranked).
    pub after_rank: Option<u32>,
    pub after: Option<u64>,
    /// Where the next page starts, as above; both `None` on the last page.
    pub next_after_rank: Option<u32>,
    pub next_after: Option<u64>,
    pub chart: Vec<ChartRound>,
    pub validators: Vec<ValidatorRow>,
    pub queries: u32,
}

/// Where the task's clock stands: the current round and phase, and how far to the next phase.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseClock {
    pub round: u32,
    pub rounds: u32,
    pub phase: String,
    /// "blocks" or "seconds": what the task's phases count.
    pub unit: String,
    pub phase_start: u64,
    pub ends_at: u64,
    /// The current height (or block time, for a task on the time clock).
    pub now: u64,
    /// Share of the phase gone, in [0, 1].
    pub progress: f64,
    /// Until the phase ends, in `unit`.
    pub remaining: u64,
    /// The same in seconds, estimated from the block time for a task on the height clock.
    pub remaining_seconds: Option<f64>,
    /// What comes after: the next phase's name, or "end" after the last round.
    pub next: String,
}

impl PhaseClock {
    pub fn new(schedule: &Schedule, now: u64, block_seconds: Option<f64>) -> Self {
        let at = schedule.at(now);
        let start = schedule.round_start(at.round);
        let (phase_start, next) = match at.phase {
            Phase::Submission => (start, "model reveal".to_string()),
            Phase::ModelReveal => (schedule.model_reveal_start(at.round), "commit".into()),
            Phase::Commit => (schedule.commit_start(at.round), "reveal".into()),
            Phase::Reveal => (
                schedule.commit_start(at.round) + schedule.commit,
                if at.round < schedule.rounds { format!("round {} submission", at.round + 1) } else { "end".into() },
            ),
            Phase::Closed => (at.ends_at, "end".into()),
        };
        let length = at.ends_at.saturating_sub(phase_start);
        let gone = now.saturating_sub(phase_start).min(length);
        let progress = if length == 0 { 1.0 } else { gone as f64 / length as f64 };
        let remaining = at.ends_at.saturating_sub(now);
        let (unit, remaining_seconds) = match schedule.clock {
            Clock::Height => ("blocks", block_seconds.map(|s| s * remaining as f64)),
            Clock::Time => ("seconds", Some(remaining as f64)),
        };
        PhaseClock {
            round: at.round,
            rounds: schedule.rounds,
            phase: phase_name(at.phase).to_string(),
            unit: unit.to_string(),
            phase_start,
            ends_at: at.ends_at,
            now,
            progress,
            remaining,
            remaining_seconds,
            next,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundTab {
    pub round: u32,
    pub phase: String,
    pub finalized: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundView {
    pub round: u32,
    pub phase: String,
    pub submissions: u64,
    pub first_submission: u64,
    pub assigned: u64,
    pub scored: u64,
    pub emission: Uint128,
    pub paid: Uint128,
    pub finalized: bool,
    pub void: bool,
    pub evaluation_key_revealed: bool,
    pub bond_forfeit: Uint128,
}

impl From<&RoundResponse> for RoundView {
    fn from(r: &RoundResponse) -> Self {
        RoundView {
            round: r.round,
            phase: phase_name(r.phase).to_string(),
            submissions: r.submissions,
            first_submission: r.first_submission,
            assigned: r.assigned,
            scored: r.scored,
            emission: r.emission,
            paid: r.paid,
            finalized: r.finalized,
            void: r.void,
            evaluation_key_revealed: r.evaluation_key.is_some(),
            bond_forfeit: r.bond_forfeit,
        }
    }
}

/// One submission in a round's leaderboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaderRow {
    pub id: u64,
    pub trainer: String,
    /// The revealed model's family and the first word of its notes; `None` while sealed.
    pub model: Option<String>,
    pub consensus: Option<u32>,
    pub baseline: Option<u32>,
    /// From 0 (best).
    pub rank: Option<u32>,
    pub reward: Uint128,
    pub status: String,
}

impl From<&SubmissionResponse> for LeaderRow {
    fn from(s: &SubmissionResponse) -> Self {
        LeaderRow {
            id: s.id,
            trainer: s.trainer.to_string(),
            model: s.model.as_ref().map(|m| {
                match m.metadata.notes.as_deref().and_then(|n| n.split_whitespace().next()) {
                    Some(note) => format!("{} {note}", m.metadata.family),
                    None => m.metadata.family.clone(),
                }
            }),
            consensus: s.consensus,
            baseline: s.baseline,
            rank: s.rank,
            reward: s.reward,
            status: status_name(s.status).to_string(),
        }
    }
}

/// Where a leaderboard page starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PageStart {
    /// The first page.
    #[default]
    First,
    /// After this rank (from 0): a page of the ranked part of a ranked round.
    AfterRank(u32),
    /// After this submission id: the unranked part of a ranked round, or any page of a round
    /// that is not ranked.
    AfterId(u64),
}

/// Whether finalization has ranked the round: its rank stage is done (ranks are then dense, 0 to
/// `scored - 1`) and the round is not void (a void round ranks nothing).
pub fn is_ranked(round: &RoundResponse) -> bool {
    !round.void
        && matches!(
            round.stage,
            FinalizeStage::PayTrainers { .. } | FinalizeStage::PayValidators { .. } | FinalizeStage::Done
        )
}

/// One page of a round's leaderboard.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeaderboardPage {
    pub rows: Vec<LeaderRow>,
    pub next_after_rank: Option<u32>,
    pub next_after: Option<u64>,
}

/// One page of the leaderboard of a round, from every submission of the round (by id).
///
/// A round that is not ranked lists its submissions by id. A ranked round lists them in rank
/// order, then the unranked ones (unrevealed, duplicate, unscored, below the minimum score or
/// the baseline) by id: `ranking` is the market's `Ranking` page that starts this page (`None`
/// when the page starts in the unranked part), and the page goes on into the unranked part when
/// the ranking ends before the page does.
pub fn leaderboard_page(
    ranked: bool,
    submissions: &[SubmissionResponse],
    ranking: Option<&[RankEntry]>,
    start: PageStart,
) -> Result<LeaderboardPage, SourceError> {
    let size = LEADERBOARD_PAGE as usize;
    let mut page = LeaderboardPage::default();
    // By id, the unranked rows of a ranked round and every row of another round.
    let listed = |after: Option<u64>| {
        submissions.iter().filter(move |s| (!ranked || s.rank.is_none()) && after.is_none_or(|a| s.id > a))
    };
    let id_start = match start {
        PageStart::AfterId(id) => Some(id),
        _ => None,
    };
    if ranked && !matches!(start, PageStart::AfterId(_)) {
        let ranking = ranking.unwrap_or_default();
        for entry in ranking {
            let found = submissions.binary_search_by_key(&entry.submission_id, |s| s.id).map_err(|_| {
                SourceError::Upstream(format!(
                    "the ranking names submission {} (rank {}), which the round's submissions lack",
                    entry.submission_id, entry.rank
                ))
            })?;
            page.rows.push(LeaderRow::from(&submissions[found]));
        }
        let ranked_total = submissions.iter().filter(|s| s.rank.is_some()).count();
        if let Some(last) = ranking.last().filter(|_| ranking.len() >= size) {
            let more = last.rank as usize + 1 < ranked_total || listed(None).next().is_some();
            page.next_after_rank = more.then_some(last.rank);
            return Ok(page);
        }
    }
    let room = size - page.rows.len();
    let mut rest = listed(id_start);
    page.rows.extend(rest.by_ref().take(room).map(LeaderRow::from));
    if rest.next().is_some() {
        page.next_after = page.rows.last().map(|r| r.id);
    }
    Ok(page)
}

/// The best consensus scores of one round, for the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChartRound {
    pub round: u32,
    pub scores: Vec<u32>,
}

/// One validator of the task, over the round shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ValidatorRow {
    pub address: String,
    pub own: Uint128,
    pub delegated: Uint128,
    /// Assignments in the round, and those revealed.
    pub assigned: u32,
    pub reveals: u32,
    pub in_consensus: u32,
    /// Mean |score - consensus| over its reveals on scored submissions, in ppm.
    pub mean_deviation: Option<u32>,
    /// Slashed in the round (liveness and outlier).
    pub slashed_in_round: Uint128,
    /// Slashed in the task, every round.
    pub slashed: Uint128,
    /// What the account can claim now, from every task (the market has no per-task reward query).
    pub claimable: Uint128,
    /// What it earned in the round, from the finalization transactions' `validator_reward`
    /// records; None until the round is finalized (or where the node keeps no transaction index).
    pub reward_in_round: Option<Uint128>,
}

/// A validator's record in one round from its assignments there and the round's consensus scores.
pub fn validator_row(
    p: &ParticipantResponse,
    assignments: &[arena_types::market::msg::AssignmentResponse],
    consensus: &BTreeMap<u64, u32>,
    claimable: Uint128,
) -> ValidatorRow {
    let mut row = ValidatorRow {
        address: p.address.to_string(),
        own: p.own,
        delegated: p.delegated,
        assigned: 0,
        reveals: 0,
        in_consensus: 0,
        mean_deviation: None,
        slashed_in_round: Uint128::zero(),
        slashed: p.slashed,
        claimable,
        reward_in_round: None,
    };
    let (mut deviation, mut measured) = (0u64, 0u64);
    for a in assignments {
        row.assigned += 1;
        row.slashed_in_round += a.slashed;
        if let Some(score) = a.score {
            row.reveals += 1;
            row.in_consensus += u32::from(a.standing == Some(Standing::InConsensus));
            if let Some(&c) = consensus.get(&a.submission_id) {
                deviation += u64::from(score.abs_diff(c));
                measured += 1;
            }
        }
    }
    row.mean_deviation = (measured > 0).then(|| (deviation / measured) as u32);
    row
}

/// Every item of a paginated list: `page(start_after)` answers one page of at most
/// [`QUERY_PAGE`] items; `key` gives an item's cursor.
async fn all_pages<T, K: Clone, F, Fut>(
    mut start: Option<K>,
    page: F,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, SourceError>
where
    F: Fn(Option<K>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, SourceError>>,
{
    let mut all = Vec::new();
    loop {
        let items = page(start.clone()).await?;
        let full = items.len() as u32 >= QUERY_PAGE;
        start = items.last().map(&key);
        all.extend(items);
        if !full {
            return Ok(all);
        }
    }
}

pub async fn task<S: Source>(
    r: &Reader<'_, S>,
    task_id: u64,
    round: Option<u32>,
    start: PageStart,
) -> Result<TaskView, SourceError> {
    let t: TaskResponse = r.market(&QueryMsg::Task { task_id }).await?;
    let head = r.source().head();
    let now = match t.schedule.clock {
        Clock::Height => head.height,
        Clock::Time => head.time,
    };
    let clock = PhaseClock::new(&t.schedule, now, head.block_seconds);
    let shown = round.unwrap_or(t.now.round).clamp(1, t.params.rounds.max(1));
    if round.is_some_and(|asked| asked != shown) {
        return Err(SourceError::NotFound(format!(
            "round {} does not exist: task {task_id} has rounds 1 to {}",
            round.unwrap_or_default(),
            t.params.rounds
        )));
    }
    let rd: RoundResponse = r.market(&QueryMsg::Round { task_id, round: shown }).await?;
    let ranked = is_ranked(&rd);
    // The page's ranks, when it starts in the ranked part (ranks are dense: 0 to scored - 1).
    let ranking_start = match start {
        PageStart::First => Some(None),
        PageStart::AfterRank(rank) if u64::from(rank) + 1 < rd.scored => Some(Some(rank)),
        _ => None,
    }
    .filter(|_| ranked && rd.scored > 0);
    let chart_rounds: Vec<u32> = (t.now.round.saturating_sub(CHART_ROUNDS - 1).max(1)..=t.now.round).collect();
    // The round's submissions are read whole: the validators' table needs every consensus
    // score, and the leaderboard takes its rows from them.
    let (submissions, ranking, chart, participants) = futures::join!(
        round_submissions(r, task_id, &rd),
        async {
            let Some(start_after) = ranking_start else { return Ok(None) };
            let query = QueryMsg::Ranking { task_id, round: shown, start_after, limit: Some(LEADERBOARD_PAGE) };
            r.market::<RankingResponse>(&query).await.map(|page| Some(page.ranking))
        },
        try_join_all(chart_rounds.iter().map(|&round| async move {
            // Before its rank stage (or in a void round) `Ranking` answers a provisional page
            // whose scores mean nothing yet: such a round has no points.
            let state: RoundResponse = r.market(&QueryMsg::Round { task_id, round }).await?;
            if !is_ranked(&state) {
                return Ok::<_, SourceError>(ChartRound { round, scores: Vec::new() });
            }
            let ranking: RankingResponse =
                r.market(&QueryMsg::Ranking { task_id, round, start_after: None, limit: Some(CHART_SCORES) }).await?;
            Ok(ChartRound { round, scores: ranking.ranking.iter().map(|e| e.consensus).collect() })
        })),
        all_pages(
            None,
            |start_after| async move {
                let p: ParticipantsResponse =
                    r.market(&QueryMsg::Participants { task_id, start_after, limit: Some(QUERY_PAGE) }).await?;
                Ok(p.participants)
            },
            |p: &ParticipantResponse| p.address.to_string(),
        ),
    );
    let submissions = submissions?;
    let board = leaderboard_page(ranked, &submissions, ranking?.as_deref(), start)?;
    let validators = validators(r, task_id, &rd, participants?, &submissions).await?;
    let (after_rank, after) = match start {
        PageStart::First => (None, None),
        PageStart::AfterRank(rank) => (Some(rank), None),
        PageStart::AfterId(id) => (None, Some(id)),
    };
    Ok(TaskView {
        chain: chain(r),
        id: t.id,
        creator: t.creator.to_string(),
        metric: t.params.metric.name.clone(),
        metric_description: t.params.metric.description.clone(),
        parameters: parameters(&t),
        clock,
        accounts: Totals::of(std::slice::from_ref(&t)),
        rounds: (1..=t.params.rounds)
            .map(|round| RoundTab {
                round,
                phase: phase_name(t.schedule.phase_of(round, now)).to_string(),
                finalized: round <= t.rounds_finalized,
            })
            .collect(),
        round: RoundView::from(&rd),
        ranked,
        leaderboard: board.rows,
        after_rank,
        after,
        next_after_rank: board.next_after_rank,
        next_after: board.next_after,
        chart: chart?,
        validators,
        queries: r.queries(),
    })
}

/// Every submission of the round, by id ([`QUERY_PAGE`] per query).
async fn round_submissions<S: Source>(
    r: &Reader<'_, S>,
    task_id: u64,
    round: &RoundResponse,
) -> Result<Vec<SubmissionResponse>, SourceError> {
    all_pages(
        round.first_submission.checked_sub(1),
        |start_after| async move {
            let s: SubmissionsResponse = r
                .market(&QueryMsg::Submissions {
                    task_id,
                    round: Some(round.round),
                    start_after,
                    limit: Some(QUERY_PAGE),
                })
                .await?;
            Ok(s.submissions)
        },
        |s: &SubmissionResponse| s.id,
    )
    .await
}

/// The task's validators (among its `participants`) with their record over `round`: their
/// assignments in the round (by submission id, from the round's first), the consensus scores of
/// the round's `submissions`, their claimable balance.
async fn validators<S: Source>(
    r: &Reader<'_, S>,
    task_id: u64,
    round: &RoundResponse,
    participants: Vec<ParticipantResponse>,
    submissions: &[SubmissionResponse],
) -> Result<Vec<ValidatorRow>, SourceError> {
    let first = round.first_submission;
    let end = first + round.submissions;
    let before_first = first.checked_sub(1);
    let consensus: BTreeMap<u64, u32> = submissions.iter().filter_map(|s| s.consensus.map(|c| (s.id, c))).collect();
    let validators: Vec<ParticipantResponse> = participants.into_iter().filter(|p| p.role == Role::Validator).collect();
    let paid = match round.finalized {
        true => round_validator_rewards(r, task_id, round.round).await?,
        false => None,
    };
    let rows = join_all(validators.iter().map(|p| {
        let (consensus, paid) = (&consensus, &paid);
        async move {
            let validator = p.address.to_string();
            let mut assignments = Vec::new();
            let mut start_after = before_first;
            loop {
                let page: AssignmentsResponse = r
                    .market(&QueryMsg::ValidatorAssignments {
                        task_id,
                        validator: validator.clone(),
                        start_after,
                        limit: Some(QUERY_PAGE),
                    })
                    .await?;
                let full = page.assignments.len() as u32 >= QUERY_PAGE;
                start_after = page.assignments.last().map(|a| a.submission_id);
                let past_round = start_after.is_some_and(|id| id + 1 >= end);
                assignments.extend(page.assignments.into_iter().filter(|a| a.submission_id < end));
                if !full || past_round {
                    break;
                }
            }
            let rewards: RewardsResponse = r.market(&QueryMsg::Rewards { address: validator }).await?;
            let mut row = validator_row(p, &assignments, consensus, rewards.claimable);
            row.reward_in_round = paid.as_ref().map(|paid| paid.get(&row.address).copied().unwrap_or_default());
            Ok::<_, SourceError>(row)
        }
    }))
    .await;
    rows.into_iter().collect()
}

/// What each validator earned in a finalized round, summed over the round's finalization
/// transactions (a round finalizes in pages, each paying some validators); None where the node
/// keeps no transaction index. The market stores the weights it paid by but offers no query of
/// them, so the chain's own record of the payments is read instead.
async fn round_validator_rewards<S: Source>(
    r: &Reader<'_, S>,
    task_id: u64,
    round: u32,
) -> Result<Option<BTreeMap<String, Uint128>>, SourceError> {
    let market = r.source().deployment().market.clone();
    let query = format!(
        "wasm._contract_address='{market}' AND wasm.action='finalize' AND wasm.task_id='{task_id}' AND wasm.round='{round}'"
    );
    let mut paid = BTreeMap::new();
    let mut page = 1;
    loop {
        let found = match r.search_txs(query.clone(), page, FINALIZE_TXS_PAGE).await {
            Ok(found) => found,
            // A node that cannot search its transactions leaves the column empty; a chain that
            // went away fails the page as any query does.
            Err(SourceError::Unavailable(e)) => return Err(SourceError::Unavailable(e)),
            Err(_) => return Ok(None),
        };
        for tx in &found.txs {
            add_validator_rewards(&mut paid, tx, &market);
        }
        if u64::from(page) * u64::from(FINALIZE_TXS_PAGE) >= found.total || found.txs.is_empty() {
            return Ok(Some(paid));
        }
        page += 1;
    }
}

/// Adds the `validator_reward` records (`address:amount`) of the market's finalize events in `tx`.
pub fn add_validator_rewards(paid: &mut BTreeMap<String, Uint128>, tx: &FoundTx, market: &str) {
    for event in tx.events.iter().filter(|e| {
        e.kind == "wasm"
            && e.attribute("_contract_address") == Some(market)
            && e.attribute("action") == Some("finalize")
    }) {
        for (key, value) in &event.attributes {
            let Some((address, amount)) = value.rsplit_once(':').filter(|_| key == "validator_reward") else {
                continue;
            };
            if let Ok(amount) = amount.parse::<u128>() {
                *paid.entry(address.to_string()).or_default() += Uint128::new(amount);
            }
        }
    }
}

fn percent(ppm: u32) -> String {
    format!("{:.2}%", f64::from(ppm) / 10_000.0)
}

/// The task's parameters as a person reads them.
pub fn parameters(t: &TaskResponse) -> Vec<(String, String)> {
    let p = &t.params;
    let unit = match p.phases.clock {
        Clock::Height => "blocks",
        Clock::Time => "seconds",
    };
    vec![
        ("rounds".into(), format!("{} rounds, {} finalized", p.rounds, t.rounds_finalized)),
        (
            "phases".into(),
            format!(
                "submission {}, model reveal {}, commit {}, reveal {} {unit}; unbonding {} {unit}",
                p.phases.submission, p.phases.model_reveal, p.phases.commit, p.phases.reveal, p.phases.unbonding
            ),
        ),
        (
            "model".into(),
            format!(
                "{}, at most {} parameters and {} bytes",
                p.model.family, p.model.max_parameters, p.model.max_file_bytes
            ),
        ),
        ("validators per submission".into(), p.validators_per_submission.to_string()),
        (
            "minimum stakes".into(),
            format!("trainer {}, validator {}", tokens(p.min_trainer_stake), tokens(p.min_validator_stake)),
        ),
        ("quorum".into(), format!("{} of the assigned weight", p.quorum)),
        ("consensus band (tau)".into(), format!("{} (outliers beyond {})", percent(p.tau), percent(p.outlier_bound))),
        ("minimum score".into(), percent(p.min_score)),
        ("must beat the baseline".into(), if p.beat_baseline { "yes".into() } else { "no".into() }),
        ("validators' floor share (gamma)".into(), p.gamma.to_string()),
        ("rank decay (q)".into(), p.q.to_string()),
        ("stake exponent (beta)".into(), p.beta.to_string()),
        ("delegation weight (epsilon)".into(), p.epsilon.to_string()),
        ("slashing".into(), format!("liveness {}, outlier {} of own stake", p.liveness_slash, p.outlier_slash)),
        ("creator's bond".into(), tokens(p.creator_bond)),
        ("training data".into(), p.training_data.uri.clone()),
    ]
}

/// Micro-units as tokens with 6 decimals.
pub fn tokens(amount: Uint128) -> String {
    let v = amount.u128();
    format!("{}.{:06}", v / 1_000_000, v % 1_000_000)
}

// ---------------------------------------------------------------------------------------------
// Submission

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubmissionView {
    pub chain: ChainView,
    pub task_id: u64,
    pub round: u32,
    pub row: LeaderRow,
    pub commitment: String,
    pub model_uri: Option<String>,
    pub model_sha256: Option<String>,
    pub stake: Uint128,
    pub assigned_weight: Uint128,
    pub revealed_weight: Uint128,
    /// Every assigned validator's score beside the consensus (the weighted median).
    pub scores: Vec<ScoreRow>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreRow {
    pub validator: String,
    pub weight: Uint128,
    pub committed: bool,
    pub score: Option<u32>,
    pub baseline: Option<u32>,
    /// |score - consensus|.
    pub deviation: Option<u32>,
    pub standing: Option<String>,
    pub slashed: Uint128,
}

pub async fn submission<S: Source>(r: &Reader<'_, S>, task_id: u64, id: u64) -> Result<SubmissionView, SourceError> {
    let s: SubmissionResponse = r.market(&QueryMsg::Submission { task_id, submission_id: id }).await?;
    let assignments = all_pages(
        None,
        |start_after| async move {
            let a: AssignmentsResponse = r
                .market(&QueryMsg::Assignments { task_id, submission_id: id, start_after, limit: Some(QUERY_PAGE) })
                .await?;
            Ok(a.assignments)
        },
        |a: &arena_types::market::msg::AssignmentResponse| a.validator.to_string(),
    )
    .await?;
    let scores = assignments
        .iter()
        .map(|a| ScoreRow {
            validator: a.validator.to_string(),
            weight: a.weight,
            committed: a.commitment.is_some(),
            score: a.score,
            baseline: a.baseline,
            deviation: a.score.zip(s.consensus).map(|(x, c)| x.abs_diff(c)),
            standing: a.standing.map(|st| format!("{st:?}")),
            slashed: a.slashed,
        })
        .collect();
    Ok(SubmissionView {
        chain: chain(r),
        task_id,
        round: s.round,
        row: LeaderRow::from(&s),
        commitment: s.commitment.to_hex(),
        model_uri: s.model.as_ref().map(|m| m.uri.clone()),
        model_sha256: s.model.as_ref().map(|m| m.sha256.to_hex()),
        stake: s.stake,
        assigned_weight: s.assigned_weight,
        revealed_weight: s.revealed_weight,
        scores,
        queries: r.queries(),
    })
}

// ---------------------------------------------------------------------------------------------
// Participant

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParticipantView {
    pub chain: ChainView,
    pub address: String,
    /// Claimable now, from every task.
    pub claimable: Uint128,
    pub tasks: Vec<ParticipantTask>,
    /// Whether more tasks exist than were searched.
    pub tasks_truncated: bool,
    /// Its withdrawals to the EVM side, a page of the node's transaction index; `None` with
    /// `withdrawals_error` when the node could not search it (an index turned off).
    pub withdrawals: Option<WithdrawalsView>,
    pub withdrawals_error: Option<String>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParticipantTask {
    pub task_id: u64,
    /// "trainer" or "validator"; `None` for a delegator only.
    pub role: Option<String>,
    pub own: Uint128,
    pub delegated_to_it: Uint128,
    pub effective: Uint128,
    pub unbonding: Uint128,
    pub unbonding_release: u64,
    pub commission: String,
    pub slashed: Uint128,
    /// Rewards its submissions earned in the task (trainers), from the submissions it made.
    pub delegations: Vec<DelegationRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelegationRow {
    pub operator: String,
    pub amount: Uint128,
    pub pending_rewards: Uint128,
    pub unbonding: Uint128,
    pub unbonding_release: u64,
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Trainer => "trainer",
        Role::Validator => "validator",
    }
}

/// The address's part in every task (the first [`QUERY_PAGE`] tasks), its delegations, what it
/// can claim, and page `withdrawals_page` (from 1) of its withdrawals to the EVM side. `NotFound`
/// when it has no part anywhere, nothing to claim and no withdrawal.
pub async fn participant<S: Source>(
    r: &Reader<'_, S>,
    address: &str,
    withdrawals_page: u32,
) -> Result<ParticipantView, SourceError> {
    let tasks_query = QueryMsg::Tasks { start_after: None, limit: Some(QUERY_PAGE) };
    let rewards_query = QueryMsg::Rewards { address: address.to_string() };
    let (tasks, rewards, withdrawn) = futures::join!(
        r.market::<TasksResponse>(&tasks_query),
        r.market::<RewardsResponse>(&rewards_query),
        withdrawals(r, address, withdrawals_page)
    );
    let tasks = tasks?.tasks;
    let rewards = rewards?;
    let per_task = try_join_all(tasks.iter().map(|t| async move {
        let task_id = t.id;
        let participant = r.market::<ParticipantResponse>(&QueryMsg::Participant { task_id, address: address.into() });
        let delegations = r.market::<DelegationsResponse>(&QueryMsg::Delegations {
            task_id,
            delegator: address.into(),
            start_after: None,
            limit: Some(QUERY_PAGE),
        });
        let (participant, delegations) = futures::join!(participant, delegations);
        let participant = optional(participant)?;
        let delegations = delegations?.delegations;
        if participant.is_none() && delegations.is_empty() {
            return Ok::<_, SourceError>(None);
        }
        let p = participant.as_ref();
        Ok(Some(ParticipantTask {
            task_id,
            role: p.map(|p| role_name(p.role).to_string()),
            own: p.map(|p| p.own).unwrap_or_default(),
            delegated_to_it: p.map(|p| p.delegated).unwrap_or_default(),
            effective: p.map(|p| p.effective).unwrap_or_default(),
            unbonding: p.map(|p| p.unbonding).unwrap_or_default(),
            unbonding_release: p.map(|p| p.unbonding_release).unwrap_or_default(),
            commission: p.map(|p| p.commission.to_string()).unwrap_or_default(),
            slashed: p.map(|p| p.slashed).unwrap_or_default(),
            delegations: delegations
                .into_iter()
                .map(|d| DelegationRow {
                    operator: d.operator.to_string(),
                    amount: d.amount,
                    pending_rewards: d.pending_rewards,
                    unbonding: d.unbonding,
                    unbonding_release: d.unbonding_release,
                })
                .collect(),
        }))
    }))
    .await?;
    let tasks_truncated = tasks.len() as u32 >= QUERY_PAGE;
    let found: Vec<ParticipantTask> = per_task.into_iter().flatten().collect();
    // A node that cannot search its transactions leaves the rest of the page standing; a chain
    // that went away fails the page as any query does.
    let (withdrawals, withdrawals_error) = match withdrawn {
        Ok(w) => (Some(w), None),
        Err(SourceError::Unavailable(e)) => return Err(SourceError::Unavailable(e)),
        Err(e) => (None, Some(e.to_string())),
    };
    // Withdrawals that could not be searched may exist: only a search that found none says so.
    let no_withdrawal = withdrawals.as_ref().is_some_and(|w| w.total == 0);
    if found.is_empty() && rewards.claimable.is_zero() && no_withdrawal {
        return Err(SourceError::NotFound(format!(
            "{address} has no stake, delegation, reward or withdrawal in any task{}",
            if tasks_truncated { " of the first 100" } else { "" }
        )));
    }
    Ok(ParticipantView {
        chain: chain(r),
        address: address.to_string(),
        claimable: rewards.claimable,
        tasks: found,
        tasks_truncated,
        withdrawals,
        withdrawals_error,
        queries: r.queries(),
    })
}

/// One page of a Cosmos account's withdrawals to the EVM side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WithdrawalsView {
    /// Transactions with a withdrawal of the account, over every page, as far back as the node's
    /// transaction index goes.
    pub total: u64,
    /// This page (from 1) and the number of pages of [`WITHDRAWALS_PAGE`] transactions.
    pub page: u32,
    pub pages: u32,
    /// Newest first.
    pub rows: Vec<WithdrawalRow>,
}

/// One withdrawal: what the market's event says, and where the bridge has it now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WithdrawalRow {
    pub tx_hash: String,
    pub height: u64,
    pub time: String,
    pub amount: Uint128,
    pub evm_recipient: String,
    /// The bridge's queue position (its `withdraw` event in the same transaction).
    pub withdrawal_id: Option<u64>,
    /// `not sealed yet`, the batch's status (as on the settlement page), or why it is not known.
    pub status: String,
    /// Its leaf once sealed: batch, index, root, proof and the claim command.
    pub claim: Option<ClaimRow>,
}

/// A withdrawal as one transaction's events tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxWithdrawal {
    pub amount: Uint128,
    pub evm_recipient: String,
    /// The bridge the market sent it to.
    pub bridge: String,
    pub withdrawal_id: Option<u64>,
}

/// The CometBFT event query for the market's `withdraw_to_evm` events of `address`.
pub fn withdrawals_query(market: &str, address: &str) -> String {
    format!("wasm._contract_address='{market}' AND wasm.action='withdraw_to_evm' AND wasm.address='{address}'")
}

/// `address`'s withdrawals in `tx`: each `withdraw_to_evm` event of the market for it, paired with
/// the next `withdraw` event of the bridge it names (the cw20 `send` the market dispatched lands
/// there, after the market's own event) for the same recipient and amount.
pub fn withdrawals_in(tx: &FoundTx, market: &str, address: &str) -> Vec<TxWithdrawal> {
    let mut found: Vec<TxWithdrawal> = Vec::new();
    for e in tx.events.iter().filter(|e| e.kind == "wasm") {
        let (contract, action) = (e.attribute("_contract_address"), e.attribute("action"));
        if contract == Some(market) && action == Some("withdraw_to_evm") && e.attribute("address") == Some(address) {
            let amount = e.attribute("amount").and_then(|a| a.parse().ok()).unwrap_or_default();
            found.push(TxWithdrawal {
                amount: Uint128::new(amount),
                evm_recipient: e.attribute("evm_recipient").unwrap_or_default().to_string(),
                bridge: e.attribute("bridge").unwrap_or_default().to_string(),
                withdrawal_id: None,
            });
        } else if action == Some("withdraw") && e.attribute("sender") == Some(market) {
            let id = e.attribute("withdrawal_id").and_then(|id| id.parse().ok());
            let pending = found.iter_mut().find(|w| {
                w.withdrawal_id.is_none()
                    && Some(w.bridge.as_str()) == contract
                    && e.attribute("evm_recipient") == Some(w.evm_recipient.as_str())
                    && e.attribute("amount") == Some(w.amount.to_string().as_str())
            });
            if let Some(w) = pending {
                w.withdrawal_id = id;
            }
        }
    }
    found
}

/// Finds the batch of a sealed withdrawal on the bridge: batches are sealed from the front of the
/// queue, so each holds consecutive withdrawal ids and later batches later ids; a binary search
/// over the batches' first leaves (one `Leaves` query of one leaf each, remembered) finds it.
struct BatchFinder<'r, 'a, S> {
    r: &'r Reader<'a, S>,
    /// The newest batch.
    last: u64,
    first_ids: BTreeMap<u64, u64>,
}

impl<S: Source> BatchFinder<'_, '_, S> {
    async fn first_id(&mut self, batch_id: u64) -> Result<u64, SourceError> {
        if let Some(&id) = self.first_ids.get(&batch_id) {
            return Ok(id);
        }
        let page: LeavesResponse =
            self.r.bridge(&BridgeQuery::Leaves { batch_id, start_after: None, limit: Some(1) }).await?;
        let id = page
            .leaves
            .first()
            .map(|l| l.withdrawal_id)
            .ok_or_else(|| SourceError::Upstream(format!("batch {batch_id} has no leaf")))?;
        self.first_ids.insert(batch_id, id);
        Ok(id)
    }

    /// The newest batch whose ids start at or before `withdrawal_id`; `None` when the first
    /// batch starts after it.
    async fn batch_of(&mut self, withdrawal_id: u64) -> Result<Option<u64>, SourceError> {
        let (mut lo, mut hi) = (1u64, self.last);
        if hi == 0 || self.first_id(1).await? > withdrawal_id {
            return Ok(None);
        }
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.first_id(mid).await? <= withdrawal_id {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(Some(lo))
    }
}

/// Page `page` of `address`'s withdrawals: the transactions the node's index finds for the
/// market's `withdraw_to_evm` events of the address, and where each withdrawal is on the bridge
/// (queued, or its batch, leaf and proof).
pub async fn withdrawals<S: Source>(
    r: &Reader<'_, S>,
    address: &str,
    page: u32,
) -> Result<WithdrawalsView, SourceError> {
    let deployment = r.source().deployment();
    let market = deployment.market.clone();
    let found = r.search_txs(withdrawals_query(&market, address), page.max(1), WITHDRAWALS_PAGE).await?;
    let mut listed: Vec<(&FoundTx, TxWithdrawal)> = Vec::new();
    for tx in &found.txs {
        listed.extend(withdrawals_in(tx, &market, address).into_iter().map(|w| (tx, w)));
    }
    let bridge = deployment.bridge.clone();
    let (oldest_queued, last_batch) = match &bridge {
        Some(_) if !listed.is_empty() => {
            let (queue, outbox) = futures::join!(
                r.bridge::<WithdrawalsResponse>(&BridgeQuery::PendingWithdrawals { start_after: None, limit: Some(1) }),
                r.bridge::<OutboxResponse>(&BridgeQuery::Outbox {})
            );
            (queue?.withdrawals.first().map(|w| w.id), outbox?.next_batch_id.saturating_sub(1))
        }
        _ => (None, 0),
    };
    // The probes are remembered across the page's withdrawals, so neighbours share most of them.
    // (Rows are newest transaction first, but a transaction's own withdrawals are oldest first:
    // no bound from the row before.)
    let mut finder = BatchFinder { r, last: last_batch, first_ids: BTreeMap::new() };
    let mut rows = Vec::with_capacity(listed.len());
    for (tx, w) in listed {
        let (status, claim) = match (&bridge, w.withdrawal_id) {
            (None, _) => ("this deployment lists no arena-bridge".to_string(), None),
            (Some(ours), _) if *ours != w.bridge => {
                (format!("sent to the bridge {}, not this deployment's", w.bridge), None)
            }
            (Some(_), None) => ("the bridge's withdraw event is missing from the transaction".to_string(), None),
            (Some(_), Some(id)) if oldest_queued.is_some_and(|oldest| id >= oldest) => {
                ("not sealed yet".to_string(), None)
            }
            (Some(_), Some(id)) => match finder.batch_of(id).await? {
                None => (format!("withdrawal {id} is in no batch"), None),
                Some(batch_id) => {
                    let index = u32::try_from(id - finder.first_id(batch_id).await?).unwrap_or(u32::MAX);
                    let (batch, proof) = futures::join!(
                        r.bridge::<BatchResponse>(&BridgeQuery::Batch { batch_id }),
                        r.bridge::<ProofResponse>(&BridgeQuery::Proof { batch_id, index })
                    );
                    let (batch, proof) = (batch?, proof?);
                    if proof.leaf.withdrawal_id != id {
                        return Err(SourceError::Upstream(format!(
                            "leaf {index} of batch {batch_id} is withdrawal {}, not {id}",
                            proof.leaf.withdrawal_id
                        )));
                    }
                    let claim = claim_row(&batch, proof, deployment.settlement.as_deref());
                    (claim.batch_status.clone(), Some(claim))
                }
            },
        };
        rows.push(WithdrawalRow {
            tx_hash: tx.hash.clone(),
            height: tx.height,
            time: tx.time.clone(),
            amount: w.amount,
            evm_recipient: w.evm_recipient,
            withdrawal_id: w.withdrawal_id,
            status,
            claim,
        });
    }
    Ok(WithdrawalsView {
        total: found.total,
        page: page.max(1),
        pages: found.total.div_ceil(u64::from(WITHDRAWALS_PAGE)).max(1) as u32,
        rows,
    })
}

/// An EVM address's withdrawals: its leaves in the newest batches, each with its proof.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecipientView {
    pub chain: ChainView,
    pub address: String,
    pub claims: Vec<ClaimRow>,
    /// The batches searched: ids from..=to.
    pub searched: Option<(u64, u64)>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimRow {
    pub batch_id: u64,
    pub batch_status: String,
    pub index: u32,
    pub amount: Uint128,
    pub evm_recipient: String,
    pub root: String,
    pub proof: Vec<String>,
    /// Whether the proof links the leaf to the batch's root (checked here, in Rust).
    pub proof_verified: bool,
    /// The command that claims it on the EVM side.
    pub claim_command: String,
}

pub fn claim_command(batch_id: u64, recipient: &str, settlement: Option<&str>) -> String {
    format!(
        "arena-relayer claim --batch {batch_id} --key-file evm.key --recipient {recipient} --settlement {}",
        settlement.unwrap_or("<ArenaSettlement address>")
    )
}

/// A sealed leaf with its proof, checked here against the batch's root, and its claim command.
pub fn claim_row(batch: &BatchResponse, proof: ProofResponse, settlement: Option<&str>) -> ClaimRow {
    let leaf = &proof.leaf;
    ClaimRow {
        batch_id: batch.batch_id,
        batch_status: batch_status(batch, None),
        index: leaf.index,
        amount: leaf.amount,
        evm_recipient: leaf.evm_recipient.clone(),
        claim_command: claim_command(batch.batch_id, &leaf.evm_recipient, settlement),
        proof_verified: proof.verify().unwrap_or(false) && proof.root == batch.root,
        root: proof.root,
        proof: proof.proof,
    }
}

pub async fn recipient<S: Source>(r: &Reader<'_, S>, address: &str) -> Result<RecipientView, SourceError> {
    if !r.has_bridge() {
        return Err(SourceError::NotFound("this deployment has no arena-bridge".into()));
    }
    let outbox: OutboxResponse = r.bridge(&BridgeQuery::Outbox {}).await?;
    let last = outbox.next_batch_id.saturating_sub(1);
    let first = last.saturating_sub(CLAIM_SEARCH_BATCHES - 1).max(1);
    let settlement = r.source().deployment().settlement.clone();
    let wanted = address.to_ascii_lowercase();
    let per_batch = try_join_all((first..=last).map(|batch_id| {
        let (wanted, settlement) = (&wanted, &settlement);
        async move {
            let batch: BatchResponse = r.bridge(&BridgeQuery::Batch { batch_id }).await?;
            let leaves = all_pages(
                None,
                |start_after| async move {
                    let l: LeavesResponse =
                        r.bridge(&BridgeQuery::Leaves { batch_id, start_after, limit: Some(QUERY_PAGE) }).await?;
                    Ok(l.leaves)
                },
                |l: &arena_types::settlement::msg::LeafResponse| l.index,
            )
            .await?;
            let mut claims = Vec::new();
            for leaf in leaves.iter().filter(|l| l.evm_recipient.to_ascii_lowercase() == *wanted) {
                let proof: ProofResponse = r.bridge(&BridgeQuery::Proof { batch_id, index: leaf.index }).await?;
                claims.push(claim_row(&batch, proof, settlement.as_deref()));
            }
            Ok::<_, SourceError>(claims)
        }
    }))
    .await?;
    Ok(RecipientView {
        chain: chain(r),
        address: address.to_string(),
        claims: per_batch.into_iter().flatten().collect(),
        searched: (last >= 1).then_some((first, last)),
        queries: r.queries(),
    })
}

// ---------------------------------------------------------------------------------------------
// Settlement

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettlementView {
    pub chain: ChainView,
    pub outbox: OutboxView,
    pub threshold: u32,
    pub attesters: usize,
    pub evm_chain_id: u64,
    pub evm_settlement: Option<String>,
    /// Newest first.
    pub batches: Vec<BatchRow>,
    /// Pass as `?before=` for the next (older) page.
    pub next_before: Option<u64>,
    pub relayers: Vec<RelayerState>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchRow {
    pub batch_id: u64,
    /// sealed, attested k of n, posted, confirmed.
    pub status: String,
    pub attestations: u32,
    pub threshold: u32,
    pub total: Uint128,
    pub count: u32,
    pub sealed_height: u64,
    pub root: String,
    /// The EVM transaction that posted it, once a relayer voted it (posted) or the bridge recorded it.
    pub evm_tx_hash: Option<String>,
}

/// A batch's stage in words: `sealed, attested k of n` while collecting attestations,
/// `attested` once postable, `posted` once a relayer voted the EVM transaction, `confirmed`.
pub fn batch_status(b: &BatchResponse, threshold: Option<u32>) -> String {
    match b.status {
        BatchStatus::Sealed => match threshold {
            Some(n) => format!("sealed, attested {} of {n}", b.attestation_count),
            None => format!("sealed, {} attestations", b.attestation_count),
        },
        BatchStatus::Attested if !b.confirmations.is_empty() => "posted".into(),
        BatchStatus::Attested => "attested".into(),
        BatchStatus::Confirmed => "confirmed".into(),
    }
}

impl BatchRow {
    pub fn new(b: &BatchResponse, threshold: u32) -> Self {
        BatchRow {
            batch_id: b.batch_id,
            status: batch_status(b, Some(threshold)),
            attestations: b.attestation_count,
            threshold,
            total: b.total,
            count: b.count,
            sealed_height: b.sealed_height,
            root: b.root.clone(),
            evm_tx_hash: b.evm_tx_hash.clone().or_else(|| b.confirmations.first().map(|c| c.evm_tx_hash.clone())),
        }
    }
}

pub async fn settlement<S: Source>(r: &Reader<'_, S>, before: Option<u64>) -> Result<SettlementView, SourceError> {
    if !r.has_bridge() {
        return Err(SourceError::NotFound("this deployment has no arena-bridge".into()));
    }
    let (outbox, config) = futures::join!(
        r.bridge::<OutboxResponse>(&BridgeQuery::Outbox {}),
        r.bridge::<BridgeConfig>(&BridgeQuery::Config {})
    );
    let (outbox, config) = (outbox?, config?);
    let newest = outbox.next_batch_id.saturating_sub(1);
    let top = before.map(|b| b.saturating_sub(1)).unwrap_or(newest).min(newest);
    let bottom = top.saturating_sub(u64::from(BATCHES_PAGE)) + 1;
    let mut batches: Vec<BatchResponse> = if top == 0 {
        Vec::new()
    } else {
        let page: BatchesResponse = r
            .bridge(&BridgeQuery::Batches {
                status: None,
                start_after: bottom.checked_sub(1).filter(|&s| s > 0),
                limit: Some(BATCHES_PAGE),
            })
            .await?;
        page.batches
    };
    batches.retain(|b| b.batch_id <= top);
    batches.reverse();
    Ok(SettlementView {
        chain: chain(r),
        outbox: OutboxView::from(outbox),
        threshold: config.threshold,
        attesters: config.attesters.len(),
        evm_chain_id: config.evm_chain_id,
        evm_settlement: config.evm_settlement,
        batches: batches.iter().map(|b| BatchRow::new(b, config.threshold)).collect(),
        next_before: (bottom > 1).then_some(bottom),
        relayers: r.source().relayers(),
        queries: r.queries(),
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchView {
    pub chain: ChainView,
    pub batch: BatchRow,
    pub digest: Option<String>,
    pub confirmations: Vec<(String, String)>,
    pub attestations: Vec<(String, u64)>,
    /// The first [`QUERY_PAGE`] leaves after `?after=`.
    pub leaves: Vec<LeafRow>,
    pub next_after: Option<u32>,
    pub queries: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeafRow {
    pub index: u32,
    pub evm_recipient: String,
    pub amount: Uint128,
    pub withdrawal_id: u64,
}

pub async fn batch<S: Source>(r: &Reader<'_, S>, batch_id: u64, after: Option<u32>) -> Result<BatchView, SourceError> {
    if !r.has_bridge() {
        return Err(SourceError::NotFound("this deployment has no arena-bridge".into()));
    }
    let (b, config, leaves, attestations) = futures::join!(
        r.bridge::<BatchResponse>(&BridgeQuery::Batch { batch_id }),
        r.bridge::<BridgeConfig>(&BridgeQuery::Config {}),
        r.bridge::<LeavesResponse>(&BridgeQuery::Leaves { batch_id, start_after: after, limit: Some(QUERY_PAGE) }),
        r.bridge::<AttestationsResponse>(&BridgeQuery::Attestations {
            batch_id,
            start_after: None,
            limit: Some(QUERY_PAGE)
        }),
    );
    let b = b?;
    let leaves = leaves?.leaves;
    Ok(BatchView {
        chain: chain(r),
        batch: BatchRow::new(&b, config?.threshold),
        digest: b.digest.clone(),
        confirmations: b.confirmations.iter().map(|c| (c.operator.to_string(), c.evm_tx_hash.clone())).collect(),
        attestations: attestations?.attestations.into_iter().map(|a| (a.signer, a.height)).collect(),
        next_after: (leaves.len() as u32 >= QUERY_PAGE).then(|| leaves.last().map(|l| l.index)).flatten(),
        leaves: leaves
            .into_iter()
            .map(|l| LeafRow {
                index: l.index,
                evm_recipient: l.evm_recipient,
                amount: l.amount,
                withdrawal_id: l.withdrawal_id,
            })
            .collect(),
        queries: r.queries(),
    })
}

#[cfg(test)]
mod tests;
