//! A [`Source`] answering from fixed query responses held in memory, paginated like the
//! contracts (`start_after`, `limit` capped at 100), and transactions searched by their events as a
//! node's index does: the view models' and pages' tests, and the task-page benchmark's seeded
//! task, read it instead of a chain.

use std::collections::BTreeMap;
use std::time::Duration;

use arena_client::Event;
use arena_types::market::median::Standing;
use arena_types::market::msg::{
    AssignmentResponse, AssignmentsResponse, DataCommitment, DelegationResponse, DelegationsResponse, EvaluationShard,
    FinalizeStage, Metric, ModelConstraints, ModelMetadata, ParticipantResponse, ParticipantsResponse, Phases,
    QueryMsg, RankEntry, RankingResponse, RevealedModel, RewardsResponse, Role, RoundResponse, SubmissionResponse,
    SubmissionStatus, SubmissionsResponse, TaskAccounts, TaskParams, TaskResponse, TasksResponse,
};
use arena_types::market::phase::{Clock, Schedule};
use arena_types::settlement::msg::{
    AttestationsResponse, BatchPolicy, BatchResponse, BatchesResponse, ConfigResponse as BridgeConfig, LeafResponse,
    LeavesResponse, OutboxResponse, ProofResponse, QueryMsg as BridgeQuery, WithdrawalResponse, WithdrawalsResponse,
};
use cosmwasm_std::{Addr, Decimal, Decimal256, HexBinary, Uint128};
use serde::Serialize;
use serde_json::Value;

use crate::source::{Contract, Deployment, FoundTx, Head, RelayerState, Source, SourceError, TxPage};

/// Everything the fake chain holds.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub tasks: Vec<TaskResponse>,
    pub rounds: Vec<RoundResponse>,
    pub submissions: Vec<SubmissionResponse>,
    pub assignments: Vec<AssignmentResponse>,
    pub participants: Vec<(u64, ParticipantResponse)>,
    pub delegations: Vec<DelegationResponse>,
    pub rewards: BTreeMap<String, Uint128>,
    pub bridge: Option<BridgeConfig>,
    pub batches: Vec<BatchResponse>,
    pub leaves: Vec<LeafResponse>,
    pub proofs: Vec<ProofResponse>,
    /// The bridge's queue: withdrawals not sealed yet, oldest first.
    pub queue: Vec<WithdrawalResponse>,
    /// The id the bridge gives the next withdrawal.
    pub next_withdrawal_id: u64,
    /// Every transaction, oldest first, with its events.
    pub txs: Vec<FoundTx>,
}

/// The fake source: a world, a head, relayers, and an optional delay per query.
pub struct FakeSource {
    pub deployment: Deployment,
    pub world: World,
    pub head: Head,
    pub relayers: Vec<RelayerState>,
    /// Every query waits this long (a stand-in for a node's answer time).
    pub latency: Duration,
    /// Every query fails with this error (a chain that went away).
    pub fail: Option<SourceError>,
    /// Every transaction search fails with this error (a node whose index is off).
    pub search_fail: Option<SourceError>,
}

impl FakeSource {
    pub fn new(world: World, height: u64) -> Self {
        FakeSource {
            deployment: Deployment {
                chain_id: "arena-local-1".into(),
                bech32_prefix: "inj".into(),
                market: MARKET.into(),
                bridge: world.bridge.as_ref().map(|_| BRIDGE.to_string()),
                token: "inj1token".into(),
                evm_chain_id: 84532,
                settlement: Some("0x00000000000000000000000000000000000000aa".into()),
                evm_rpc: "http://127.0.0.1:8545".into(),
            },
            world,
            head: Head { height, time: 1_700_000_000, block_seconds: Some(0.2), reachable: true, error: None },
            relayers: Vec::new(),
            latency: Duration::ZERO,
            fail: None,
            search_fail: None,
        }
    }
}

fn page<T: Clone, K: PartialOrd>(
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> K,
    after: Option<K>,
    limit: Option<u32>,
) -> Vec<T> {
    let limit = limit.unwrap_or(30).min(100) as usize;
    items.filter(|i| after.as_ref().is_none_or(|a| key(i) > *a)).take(limit).collect()
}

fn answer<T: Serialize>(v: T) -> Result<Value, SourceError> {
    serde_json::to_value(v).map_err(|e| SourceError::Upstream(e.to_string()))
}

fn missing(what: String) -> SourceError {
    SourceError::NotFound(format!("Generic error: {what} not found"))
}

impl World {
    fn market(&self, q: QueryMsg) -> Result<Value, SourceError> {
        match q {
            QueryMsg::Task { task_id } => {
                answer(self.tasks.iter().find(|t| t.id == task_id).ok_or_else(|| missing(format!("task {task_id}")))?)
            }
            QueryMsg::Tasks { start_after, limit } => {
                answer(TasksResponse { tasks: page(self.tasks.iter().cloned(), |t| t.id, start_after, limit) })
            }
            QueryMsg::Round { task_id, round } => answer(
                self.rounds
                    .iter()
                    .find(|r| r.task_id == task_id && r.round == round)
                    .ok_or_else(|| missing(format!("round {round} of task {task_id}")))?,
            ),
            QueryMsg::Submission { task_id, submission_id } => answer(
                self.submissions
                    .iter()
                    .find(|s| s.task_id == task_id && s.id == submission_id)
                    .ok_or_else(|| missing(format!("submission {submission_id} of task {task_id}")))?,
            ),
            QueryMsg::Submissions { task_id, round, start_after, limit } => answer(SubmissionsResponse {
                submissions: page(
                    self.submissions
                        .iter()
                        .filter(|s| s.task_id == task_id && round.is_none_or(|r| s.round == r))
                        .cloned(),
                    |s| s.id,
                    start_after,
                    limit,
                ),
            }),
            QueryMsg::Assignments { submission_id, start_after, limit, .. } => answer(AssignmentsResponse {
                assignments: page(
                    self.assignments.iter().filter(|a| a.submission_id == submission_id).cloned(),
                    |a| a.validator.to_string(),
                    start_after,
                    limit,
                ),
            }),
            QueryMsg::ValidatorAssignments { validator, start_after, limit, .. } => answer(AssignmentsResponse {
                assignments: page(
                    self.assignments.iter().filter(|a| a.validator.as_str() == validator).cloned(),
                    |a| a.submission_id,
                    start_after,
                    limit,
                ),
            }),
            QueryMsg::Ranking { task_id, round, start_after, limit } => {
                let mut ranked: Vec<&SubmissionResponse> = self
                    .submissions
                    .iter()
                    .filter(|s| s.task_id == task_id && s.round == round && s.rank.is_some())
                    .collect();
                ranked.sort_by_key(|s| s.rank);
                // As the market: a round not ranked yet has no pages after the first.
                if ranked.is_empty() && start_after.is_some() {
                    return Err(SourceError::Upstream(format!(
                        "Generic error: round {round} of task {task_id} is not ranked yet: page through it once its finalization ranked it"
                    )));
                }
                if ranked.is_empty() {
                    // As the market: before its rank stage (or when void) a round answers a
                    // provisional first page, by consensus so far (0 where none).
                    let mut provisional: Vec<&SubmissionResponse> =
                        self.submissions.iter().filter(|s| s.task_id == task_id && s.round == round).collect();
                    provisional.sort_by_key(|s| std::cmp::Reverse(s.consensus.unwrap_or_default()));
                    let ranking = provisional
                        .into_iter()
                        .take(limit.unwrap_or(30).min(100) as usize)
                        .enumerate()
                        .map(|(rank, s)| RankEntry {
                            rank: rank as u32,
                            submission_id: s.id,
                            trainer: s.trainer.clone(),
                            consensus: s.consensus.unwrap_or_default(),
                        })
                        .collect();
                    return answer(RankingResponse { ranking });
                }
                answer(RankingResponse {
                    ranking: page(
                        ranked.into_iter().map(|s| RankEntry {
                            rank: s.rank.unwrap_or_default(),
                            submission_id: s.id,
                            trainer: s.trainer.clone(),
                            consensus: s.consensus.unwrap_or_default(),
                        }),
                        |e| e.rank,
                        start_after,
                        limit,
                    ),
                })
            }
            QueryMsg::Participant { task_id, address } => answer(
                self.participants
                    .iter()
                    .find(|(t, p)| *t == task_id && p.address.as_str() == address)
                    .map(|(_, p)| p)
                    .ok_or_else(|| missing(format!("participant {address} of task {task_id}")))?,
            ),
            QueryMsg::Participants { task_id, start_after, limit } => answer(ParticipantsResponse {
                participants: page(
                    self.participants.iter().filter(|(t, _)| *t == task_id).map(|(_, p)| p.clone()),
                    |p| p.address.to_string(),
                    start_after,
                    limit,
                ),
            }),
            QueryMsg::Delegations { task_id, delegator, start_after, limit } => answer(DelegationsResponse {
                delegations: page(
                    self.delegations
                        .iter()
                        .filter(|d| d.task_id == task_id && d.delegator.as_str() == delegator)
                        .cloned(),
                    |d| d.operator.to_string(),
                    start_after,
                    limit,
                ),
            }),
            QueryMsg::Rewards { address } => answer(RewardsResponse {
                claimable: self.rewards.get(&address).copied().unwrap_or_default(),
                address: Addr::unchecked(address),
            }),
            other => Err(SourceError::Upstream(format!("the fixture does not answer {other:?}"))),
        }
    }

    fn bridge(&self, q: BridgeQuery) -> Result<Value, SourceError> {
        let config = self.bridge.as_ref().ok_or_else(|| missing("bridge".into()))?;
        match q {
            BridgeQuery::Config {} => answer(config),
            BridgeQuery::Outbox {} => answer(OutboxResponse {
                queued_count: self.queue.len() as u64,
                queued_amount: self.queue.iter().map(|w| w.amount).sum(),
                oldest_queued_height: self.queue.first().map(|w| w.queued_height),
                sealable: false,
                sealed_amount: self.batches.iter().map(|b| b.total).sum(),
                next_batch_id: self.batches.len() as u64 + 1,
            }),
            BridgeQuery::PendingWithdrawals { start_after, limit } => answer(WithdrawalsResponse {
                withdrawals: page(self.queue.iter().cloned(), |w| w.id, start_after, limit),
            }),
            BridgeQuery::Batch { batch_id } => answer(
                self.batches
                    .iter()
                    .find(|b| b.batch_id == batch_id)
                    .ok_or_else(|| SourceError::NotFound(format!("batch {batch_id} does not exist")))?,
            ),
            BridgeQuery::Batches { status, start_after, limit } => answer(BatchesResponse {
                batches: page(
                    self.batches.iter().filter(|b| status.is_none_or(|s| b.status == s)).cloned(),
                    |b| b.batch_id,
                    start_after,
                    limit,
                ),
            }),
            BridgeQuery::Leaves { batch_id, start_after, limit } => answer(LeavesResponse {
                leaves: page(
                    self.leaves.iter().filter(|l| l.batch_id == batch_id).cloned(),
                    |l| l.index,
                    start_after,
                    limit,
                ),
            }),
            BridgeQuery::Attestations { .. } => answer(AttestationsResponse { attestations: Vec::new() }),
            BridgeQuery::Proof { batch_id, index } => answer(
                self.proofs
                    .iter()
                    .find(|p| p.leaf.batch_id == batch_id && p.leaf.index == index)
                    .ok_or_else(|| missing(format!("leaf {index} of batch {batch_id}")))?,
            ),
        }
    }

    /// As a node's `tx_search`: `type.key='value'` conditions joined by `AND` (the only form the
    /// explorer sends), a transaction matching when one of its events meets them all; newest
    /// first; a page past the last refused as CometBFT refuses it.
    fn search(&self, query: &str, page: u32, per_page: u32) -> Result<TxPage, SourceError> {
        let conditions = query
            .split(" AND ")
            .map(|c| {
                let (path, value) = c.split_once('=')?;
                let (kind, key) = path.trim().split_once('.')?;
                Some((kind, key, value.trim().strip_prefix('\'')?.strip_suffix('\'')?))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| SourceError::Upstream(format!("the fixture cannot parse the query {query:?}")))?;
        let matches = |tx: &&FoundTx| {
            tx.events
                .iter()
                .any(|e| conditions.iter().all(|&(kind, key, value)| e.kind == kind && e.attribute(key) == Some(value)))
        };
        let found: Vec<&FoundTx> = self.txs.iter().rev().filter(matches).collect();
        let per_page = per_page.clamp(1, 100) as usize;
        let pages = found.len().div_ceil(per_page).max(1);
        if page as usize > pages || page == 0 {
            return Err(SourceError::Upstream(format!("page should be within [1, {pages}] range, given {page}")));
        }
        Ok(TxPage {
            total: found.len() as u64,
            txs: found.into_iter().skip((page as usize - 1) * per_page).take(per_page).cloned().collect(),
        })
    }
}

impl Source for FakeSource {
    fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    fn head(&self) -> Head {
        self.head.clone()
    }

    fn relayers(&self) -> Vec<RelayerState> {
        self.relayers.clone()
    }

    async fn smart(&self, contract: Contract, msg: Value) -> Result<Value, SourceError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(e) = &self.fail {
            return Err(e.clone());
        }
        let bad = |e: serde_json::Error| SourceError::Upstream(format!("Error parsing into type: {e}"));
        match contract {
            Contract::Market => self.world.market(serde_json::from_value(msg).map_err(bad)?),
            Contract::Bridge => self.world.bridge(serde_json::from_value(msg).map_err(bad)?),
            Contract::Token => Err(SourceError::Upstream("the fixture has no token".into())),
        }
    }

    async fn search_txs(&self, query: String, page: u32, per_page: u32) -> Result<TxPage, SourceError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(e) = self.fail.as_ref().or(self.search_fail.as_ref()) {
            return Err(e.clone());
        }
        self.world.search(&query, page, per_page)
    }
}

// ---------------------------------------------------------------------------------------------
// A seeded competition.

/// A valid bech32 address of the fake chain for index `i` (`inj` prefix).
pub fn address(i: u32) -> String {
    use arena_client::cosmrs::AccountId;
    let mut bytes = [0u8; 20];
    bytes[..4].copy_from_slice(&i.to_be_bytes());
    AccountId::new("inj", &bytes).map(|a| a.to_string()).unwrap_or_default()
}

pub fn trainer(i: u32) -> String {
    address(1_000 + i)
}

pub fn validator(j: u32) -> String {
    address(2_000 + j)
}

/// The parameters of the seeded task.
pub fn params(rounds: u32) -> TaskParams {
    let h = |b: u8| HexBinary::from([b; 32]);
    TaskParams {
        metric: Metric { name: "accuracy_ppm".into(), description: "top-1 accuracy, in parts per million".into() },
        beacon: h(1),
        training_data: DataCommitment { uri: "file://data/digits-train.csv".into(), sha256: h(2) },
        evaluation: (0..rounds)
            .map(|r| EvaluationShard {
                uri: format!("file://shards/round-{r}.csv.enc"),
                sha256: h(3),
                key_sha256: h(4),
            })
            .collect(),
        creator_bond: Uint128::new(10_000_000),
        model: ModelConstraints { family: "mlp".into(), max_parameters: 10_000_000, max_file_bytes: 64_000_000 },
        kind: Default::default(),
        rounds,
        phases: Phases {
            clock: Clock::Height,
            submission: 60,
            model_reveal: 30,
            commit: 40,
            reveal: 40,
            unbonding: 340,
        },
        validators_per_submission: 3,
        min_trainer_stake: Uint128::new(1_000_000),
        min_validator_stake: Uint128::new(1_000_000),
        quorum: Decimal::percent(50),
        tau: 20_000,
        outlier_bound: 100_000,
        min_score: 0,
        beat_baseline: true,
        gamma: Decimal::percent(20),
        q: Decimal::percent(80),
        beta: Decimal::one(),
        epsilon: Decimal::percent(50),
        liveness_slash: Decimal::percent(5),
        outlier_slash: Decimal::percent(10),
    }
}

/// One task (id 1) whose schedule starts at height 100, with `rounds` rounds of `trainers`
/// submissions each, every round before the current one finalized, `validators` validators (each
/// submission assigned to three, validator 0 lying by 300_000 ppm), two batches on the bridge.
/// `height` decides the current round and phase.
pub fn competition(rounds: u32, trainers: u32, validators: u32, height: u64) -> World {
    let p = params(rounds);
    let schedule = Schedule {
        clock: Clock::Height,
        start: 100,
        submission: p.phases.submission,
        model_reveal: p.phases.model_reveal,
        commit: p.phases.commit,
        reveal: p.phases.reveal,
        rounds,
    };
    let now = schedule.at(height);
    let closed_rounds = (1..=rounds).filter(|&r| schedule.round_end(r) <= height).count() as u32;
    let mut world = World::default();
    let mut next_id = 1u64;
    for round in 1..=now.round {
        let finalized = round <= closed_rounds;
        let first = next_id;
        for i in 0..trainers {
            let id = next_id;
            next_id += 1;
            // Scores: trainer i of round r scores 900_000 - 700 * i + 1_000 * r.
            let score = 900_000u32.saturating_sub(700 * i) + 1_000 * round;
            world.submissions.push(SubmissionResponse {
                id,
                task_id: 1,
                round,
                trainer: Addr::unchecked(trainer(i)),
                commitment: HexBinary::from([5u8; 32]),
                model: Some(RevealedModel {
                    sha256: HexBinary::from([6u8; 32]),
                    uri: format!("file://models/{id}.safetensors"),
                    metadata: ModelMetadata {
                        family: "mlp".into(),
                        parameters: 1_000,
                        file_bytes: 10_000,
                        notes: Some(format!("mlp:{} epochs", 8 + i)),
                    },
                }),
                stake: Uint128::new(1_000_000),
                assigned: true,
                assigned_weight: Uint128::new(3_000_000),
                revealed_weight: Uint128::new(if finalized { 3_000_000 } else { 0 }),
                status: if finalized { SubmissionStatus::Scored } else { SubmissionStatus::Pending },
                consensus: finalized.then_some(score),
                baseline: finalized.then_some(110_000),
                rank: finalized.then_some(i),
                weight: Uint128::zero(),
                reward: Uint128::new(if finalized { 1_000_000 / u128::from(i + 1) } else { 0 }),
            });
            for k in 0..3u32 {
                let j = (id as u32 * 7 + k * 3) % validators.max(1);
                let lie = j == 0;
                world.assignments.push(AssignmentResponse {
                    submission_id: id,
                    validator: Addr::unchecked(validator(j)),
                    weight: Uint128::new(1_000_000),
                    commitment: Some(HexBinary::from([7u8; 32])),
                    score: finalized.then_some(if lie { score - 300_000 } else { score }),
                    baseline: finalized.then_some(110_000),
                    standing: finalized.then_some(if lie { Standing::Outlier } else { Standing::InConsensus }),
                    slashed: Uint128::new(if finalized && lie { 50_000 } else { 0 }),
                });
            }
        }
        if finalized {
            finalize_tx(&mut world, round, validators, schedule.round_end(round));
        }
        world.rounds.push(RoundResponse {
            task_id: 1,
            round,
            phase: schedule.phase_of(round, height),
            first_submission: first,
            submissions: u64::from(trainers),
            assigned: u64::from(trainers),
            seed: None,
            stage: if finalized { FinalizeStage::Done } else { FinalizeStage::Pending },
            emission: Uint128::new(if finalized { 5_000_000 } else { 0 }),
            validator_budget: Uint128::zero(),
            trainer_budget: Uint128::zero(),
            trainer_weight_total: Uint128::zero(),
            validator_weight_total: Uint128::zero(),
            paid: Uint128::new(if finalized { 4_999_990 } else { 0 }),
            scored: if finalized { u64::from(trainers) } else { 0 },
            finalized,
            evaluation_key: finalized.then(|| HexBinary::from([8u8; 32])),
            void: false,
            bond_forfeit: Uint128::zero(),
        });
    }
    for round in now.round + 1..=rounds {
        world.rounds.push(RoundResponse {
            task_id: 1,
            round,
            phase: schedule.phase_of(round, height),
            first_submission: next_id,
            submissions: 0,
            assigned: 0,
            seed: None,
            stage: FinalizeStage::Pending,
            emission: Uint128::zero(),
            validator_budget: Uint128::zero(),
            trainer_budget: Uint128::zero(),
            trainer_weight_total: Uint128::zero(),
            validator_weight_total: Uint128::zero(),
            paid: Uint128::zero(),
            scored: 0,
            finalized: false,
            evaluation_key: None,
            void: false,
            bond_forfeit: Uint128::zero(),
        });
    }
    let participant = |address: String, role: Role, slashed: u128| ParticipantResponse {
        task_id: 1,
        address: Addr::unchecked(address),
        role,
        own: Uint128::new(1_000_000),
        delegated: Uint128::zero(),
        effective: Uint128::new(1_000_000),
        unbonding: Uint128::zero(),
        unbonding_release: 0,
        commission: Decimal::zero(),
        slot: None,
        sampling_weight: Uint128::zero(),
        reward_index: Decimal256::zero(),
        delegator_reserve: Uint128::zero(),
        slashed: Uint128::new(slashed),
    };
    for i in 0..trainers {
        world.participants.push((1, participant(trainer(i), Role::Trainer, 0)));
        world.rewards.insert(trainer(i), Uint128::new(1_000_000 / u128::from(i + 1)));
    }
    for j in 0..validators {
        world.participants.push((1, participant(validator(j), Role::Validator, if j == 0 { 50_000 } else { 0 })));
        world.rewards.insert(validator(j), Uint128::new(200_000));
    }
    world.participants.sort_by(|a, b| a.1.address.cmp(&b.1.address));
    world.tasks.push(TaskResponse {
        id: 1,
        creator: Addr::unchecked(address(1)),
        params: p,
        schedule,
        now,
        accounts: TaskAccounts {
            entered: Uint128::new(40_000_000),
            pool: Uint128::new(10_000_000 - 5_000_000 * u128::from(closed_rounds).min(2)),
            stake: Uint128::new(u128::from(trainers + validators) * 1_000_000),
            rewarded: Uint128::new(4_999_990 * u128::from(closed_rounds)),
            slashed: Uint128::new(50_000),
            ..Default::default()
        },
        trainer_stake: Uint128::new(u128::from(trainers) * 1_000_000),
        validator_stake: Uint128::new(u128::from(validators) * 1_000_000),
        rounds_finalized: closed_rounds,
        trainers,
        validators,
        next_submission_id: next_id,
        stakes_count_from: now.round + 1,
    });
    world.bridge = Some(BridgeConfig {
        admin: Addr::unchecked(address(0)),
        token: Addr::unchecked("inj1token"),
        attesters: Vec::new(),
        threshold: 2,
        evm_chain_id: 84532,
        evm_settlement: Some("0x00000000000000000000000000000000000000aa".into()),
        domain_separator: None,
        source_chain_id: "arena-local-1".into(),
        source_chain: String::new(),
        source_bridge: String::new(),
        batch_policy: BatchPolicy { max_leaves: 100, max_age_blocks: 50 },
        paused: false,
    });
    withdraw(&mut world, &trainer(0), RECIPIENT, 1_500_000, 390);
    withdraw(&mut world, &trainer(1), "0x00000000000000000000000000000000000000b2", 700_000, 391);
    seal(&mut world, 401, true);
    withdraw(&mut world, &trainer(2), "0x00000000000000000000000000000000000000b3", 2_000_000, 395);
    seal(&mut world, 402, false);
    world
}

/// Gives the finalized round `round` of the seeded task the results a real finalization could
/// leave: consensus scores that do not follow submission ids, so ranks are not in id order, and
/// every `unranked_every`-th submission unranked, in turn not revealed, a duplicate, unscored,
/// below the baseline and below the minimum score. Ranks go as the market assigns them: by
/// consensus, best first, ties to the earlier id, dense from 0; rewards follow the rank; the
/// validators' reveals follow the new consensus (validator 0 still 300_000 ppm below).
pub fn scramble_ranks(world: &mut World, round: u32, unranked_every: u64) {
    let unranked = [
        SubmissionStatus::Unrevealed,
        SubmissionStatus::Duplicate,
        SubmissionStatus::Unscored,
        SubmissionStatus::BelowBaseline,
        SubmissionStatus::BelowMinScore,
    ];
    let mut ranked = Vec::new();
    for (n, s) in world.submissions.iter_mut().filter(|s| s.task_id == 1 && s.round == round).enumerate() {
        // 7_919 is prime to 400_000, so the scores are distinct and wander with the id.
        let score = 500_000 + ((s.id * 7_919) % 400_000) as u32;
        (s.rank, s.reward) = (None, Uint128::zero());
        if s.id % unranked_every.max(1) == 0 {
            s.status = unranked[(n / unranked_every.max(1) as usize) % unranked.len()];
            s.consensus =
                matches!(s.status, SubmissionStatus::BelowBaseline | SubmissionStatus::BelowMinScore).then_some(score);
            if matches!(s.status, SubmissionStatus::Unrevealed | SubmissionStatus::Duplicate) {
                s.model = None;
            }
        } else {
            (s.status, s.consensus) = (SubmissionStatus::Scored, Some(score));
            ranked.push((std::cmp::Reverse(score), s.id));
        }
    }
    ranked.sort();
    let ranks: BTreeMap<u64, u32> = ranked.iter().enumerate().map(|(rank, &(_, id))| (id, rank as u32)).collect();
    let mut consensus = BTreeMap::new();
    for s in world.submissions.iter_mut().filter(|s| s.task_id == 1 && s.round == round) {
        if let Some(&rank) = ranks.get(&s.id) {
            (s.rank, s.reward) = (Some(rank), Uint128::new(1_000_000 / u128::from(rank + 1)));
        }
        consensus.insert(s.id, s.consensus);
    }
    for a in world.assignments.iter_mut() {
        if let (Some(Some(c)), Some(_)) = (consensus.get(&a.submission_id), a.score) {
            let lie = a.validator.as_str() == validator(0);
            a.score = Some(if lie { c - 300_000 } else { *c });
        }
    }
    if let Some(r) = world.rounds.iter_mut().find(|r| r.task_id == 1 && r.round == round) {
        r.scored = ranks.len() as u64;
    }
}

/// The EVM recipient the seeded batches pay first.
pub const RECIPIENT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/// The market's address in the fixture's deployment, and the bridge's.
pub const MARKET: &str = "inj1market";
pub const BRIDGE: &str = "inj1bridge";

fn wasm_event(contract: &str, attributes: &[(&str, String)]) -> Event {
    let mut all = vec![("_contract_address".to_string(), contract.to_string())];
    all.extend(attributes.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Event { kind: "wasm".into(), attributes: all }
}

/// What validator `j` earned in a finalized round of the seeded task: each finalization
/// transaction names it in a `validator_reward` attribute, as the market's `PayValidators` does.
pub fn validator_reward(round: u32, j: u32) -> u128 {
    10_000 * u128::from(round) + u128::from(j)
}

/// The finalization of `round` as the market records it: two pages, the validators' rewards
/// split between them, so a reader must sum over every finalize transaction of the round.
fn finalize_tx(world: &mut World, round: u32, validators: u32, height: u64) {
    let paid: Vec<u32> = (1..validators).collect(); // validator 0 lies: out of consensus, unpaid
    for (page, half) in paid.chunks(paid.len().div_ceil(2).max(1)).enumerate() {
        let mut attributes = vec![
            ("action", "finalize".to_string()),
            ("task_id", "1".to_string()),
            ("round", round.to_string()),
            ("stage", if page == 0 { "pay_validators" } else { "done" }.to_string()),
        ];
        for &j in half {
            attributes.push(("validator_reward", format!("{}:{}", validator(j), validator_reward(round, j))));
        }
        let hash = format!("{:064X}", world.txs.len() + 1);
        let events = vec![wasm_event(MARKET, &attributes)];
        world.txs.push(FoundTx { hash, height: height + page as u64, time: "2026-11-30T03:00:00Z".into(), events });
    }
}

/// `who` withdraws `amount` to `recipient` at `height` as `WithdrawToEvm` does on a chain: a
/// transaction with the market's event, the token's `send` and the bridge's `withdraw` event,
/// and the withdrawal queued on the bridge. Returns the transaction's hash.
pub fn withdraw(world: &mut World, who: &str, recipient: &str, amount: u128, height: u64) -> String {
    let id = world.next_withdrawal_id;
    world.next_withdrawal_id += 1;
    let hash = format!("{:064X}", world.txs.len() + 1);
    let events = vec![
        Event { kind: "message".into(), attributes: vec![("sender".into(), who.to_string())] },
        wasm_event(
            MARKET,
            &[
                ("action", "withdraw_to_evm".into()),
                ("address", who.to_string()),
                ("evm_recipient", recipient.to_string()),
                ("amount", amount.to_string()),
                ("bridge", BRIDGE.to_string()),
            ],
        ),
        wasm_event(
            "inj1token",
            &[
                ("action", "send".into()),
                ("from", MARKET.into()),
                ("to", BRIDGE.into()),
                ("amount", amount.to_string()),
            ],
        ),
        wasm_event(
            BRIDGE,
            &[
                ("action", "withdraw".into()),
                ("withdrawal_id", id.to_string()),
                ("sender", MARKET.into()),
                ("evm_recipient", recipient.to_string()),
                ("amount", amount.to_string()),
                ("queued_count", (world.queue.len() + 1).to_string()),
            ],
        ),
    ];
    world.txs.push(FoundTx { hash: hash.clone(), height, time: "2026-11-30T04:00:00Z".into(), events });
    world.queue.push(WithdrawalResponse {
        id,
        sender: Addr::unchecked(MARKET),
        evm_recipient: recipient.to_string(),
        amount: Uint128::new(amount),
        queued_height: height,
    });
    hash
}

/// Seals every queued withdrawal into the next batch at `height`, with its real Merkle root and
/// proofs; `confirmed`, or sealed with one attestation.
pub fn seal(world: &mut World, height: u64, confirmed: bool) {
    use arena_types::settlement::evm::to_hex_0x;
    use arena_types::settlement::merkle::MerkleTree;
    use arena_types::settlement::msg::{BatchStatus, ConfirmationResponse};
    let batch_id = world.batches.len() as u64 + 1;
    let leaves: Vec<LeafResponse> = std::mem::take(&mut world.queue)
        .into_iter()
        .enumerate()
        .map(|(index, w)| LeafResponse {
            batch_id,
            index: index as u32,
            evm_recipient: w.evm_recipient,
            amount: w.amount,
            withdrawal_id: w.id,
            sender: w.sender,
        })
        .collect();
    let values: Vec<_> = leaves.iter().filter_map(|l| l.to_leaf().ok()).collect();
    let tree = MerkleTree::of(&values).expect("fixture leaves make a tree");
    let root = to_hex_0x(&tree.root());
    for (i, leaf) in leaves.iter().enumerate() {
        world.proofs.push(ProofResponse {
            leaf: leaf.clone(),
            leaf_hash: to_hex_0x(&tree.leaf_hash(i).expect("leaf exists")),
            proof: tree.proof(i).expect("leaf exists").iter().map(|p| to_hex_0x(p)).collect(),
            root: root.clone(),
        });
    }
    let tx = "0x00000000000000000000000000000000000000000000000000000000000000f1".to_string();
    world.batches.push(BatchResponse {
        batch_id,
        status: if confirmed { BatchStatus::Confirmed } else { BatchStatus::Sealed },
        root,
        total: leaves.iter().map(|l| l.amount).sum(),
        count: leaves.len() as u32,
        sealed_height: height,
        digest: None,
        attestation_count: if confirmed { 2 } else { 1 },
        evm_tx_hash: confirmed.then(|| tx.clone()),
        confirmed_by: None,
        confirmations: if confirmed {
            vec![ConfirmationResponse { operator: Addr::unchecked(address(17)), evm_tx_hash: tx }]
        } else {
            Vec::new()
        },
    });
    world.leaves.extend(leaves);
}
