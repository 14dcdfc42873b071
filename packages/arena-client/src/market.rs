//! Typed access to the arena-market contract: its own message types, sent through [`Client`].
//!
//! Stakes, delegations and new tasks move cw20 tokens, so they are cw20 `Send`s to the token
//! contract carrying the market's [`ReceiveMsg`]; everything else executes on the market directly.

use arena_types::market::msg::{
    AssignmentsResponse, BeaconResponse, ExecuteMsg, QueryMsg, ReceiveMsg, RewardsResponse, Role, RoundResponse,
    StakeAtResponse, SubmissionResponse, SubmissionsResponse, TaskParams, TaskResponse,
};
use arena_types::market::phase::{Clock, Phase, RoundPhase};
use cosmwasm_std::{to_json_binary, HexBinary, Uint128};
use cw20::Cw20ExecuteMsg;
use serde::de::DeserializeOwned;

use crate::beacon::BeaconSecret;
use crate::client::Client;
use crate::error::ClientError;
use crate::keys::Signer;
use crate::shard::EvaluationKeys;
use crate::tx::TxOutcome;

/// How often [`MarketClient::wait_for_phase`] looks: about one devnet block.
const PHASE_POLL: std::time::Duration = std::time::Duration::from_millis(250);

fn phase_order(phase: Phase) -> u8 {
    match phase {
        Phase::Submission => 0,
        Phase::ModelReveal => 1,
        Phase::Commit => 2,
        Phase::Reveal => 3,
        Phase::Closed => 4,
    }
}

/// What [`MarketClient::reveal_due_beacon`] found, or did.
#[derive(Debug)]
pub enum BeaconStep {
    /// Nothing is due: round `round`'s value is accepted from `opens_at` (when its stakes freeze).
    NotYet { round: u32, opens_at: u64 },
    /// Sent round `round`'s value, in `outcome`.
    Revealed { round: u32, outcome: TxOutcome },
    /// Round `round`'s sampling started without its value: it can no longer be revealed.
    TooLate { round: u32 },
    /// No round is left whose value could still be revealed.
    Finished,
}

/// What [`MarketClient::reveal_due_evaluation_key`] found, or did.
#[derive(Debug)]
pub enum KeyStep {
    /// Nothing is due: round `round`'s key is accepted from `opens_at` (its commit phase).
    NotYet { round: u32, opens_at: u64 },
    /// Sent round `round`'s key, in `outcome`.
    Revealed { round: u32, outcome: TxOutcome },
    /// Round `round`'s key deadline passed without it: the round is void.
    TooLate { round: u32 },
    /// No round is left whose key could still be revealed.
    Finished,
}

/// The market contract and the cw20 token it accepts.
#[derive(Clone, Debug)]
pub struct MarketClient {
    client: Client,
    market: String,
    token: String,
}

impl MarketClient {
    pub fn new(client: Client, market: impl Into<String>, token: impl Into<String>) -> Self {
        MarketClient { client, market: market.into(), token: token.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn address(&self) -> &str {
        &self.market
    }

    /// Executes a market message.
    pub async fn execute(&self, signer: &Signer, msg: &ExecuteMsg) -> Result<TxOutcome, ClientError> {
        self.client.execute(signer, &self.market, msg, vec![]).await
    }

    /// Several market messages of one signer in one transaction (e.g. a validator's commits).
    pub async fn execute_many(&self, signer: &Signer, msgs: &[ExecuteMsg]) -> Result<TxOutcome, ClientError> {
        let msgs = msgs
            .iter()
            .map(|m| self.client.execute_msg(signer, &self.market, m, vec![]))
            .collect::<Result<Vec<_>, _>>()?;
        self.client.send(signer, msgs).await
    }

    /// Sends `amount` of the token to the market with a hook message (new task, stake, delegation).
    pub async fn send_tokens(
        &self,
        signer: &Signer,
        amount: u128,
        hook: &ReceiveMsg,
    ) -> Result<TxOutcome, ClientError> {
        let msg = Cw20ExecuteMsg::Send {
            contract: self.market.clone(),
            amount: Uint128::new(amount),
            msg: to_json_binary(hook).map_err(|e| ClientError::Config(format!("hook message: {e}")))?,
        };
        self.client.execute(signer, &self.token, &msg, vec![]).await
    }

    /// Creates a task with a reward pool of `pool`; the creator's bond (`params.creator_bond`) is
    /// sent on top of it. The market requires the bond to be at least the pool (a withheld key
    /// must cost more than the emission the creator would reclaim), so a smaller bond is raised
    /// to `pool`. Returns the task's id (from the contract's `task_id` attribute).
    pub async fn create_task(
        &self,
        signer: &Signer,
        pool: u128,
        mut params: TaskParams,
    ) -> Result<(u64, TxOutcome), ClientError> {
        params.creator_bond = params.creator_bond.max(Uint128::new(pool));
        let amount = pool
            .checked_add(params.creator_bond.u128())
            .ok_or_else(|| ClientError::Config(format!("pool {pool} plus bond {} overflows", params.creator_bond)))?;
        let outcome = self.send_tokens(signer, amount, &ReceiveMsg::CreateTask(params)).await?;
        let task_id = outcome
            .wasm_events()
            .find_map(|e| e.attribute("task_id"))
            .ok_or_else(|| ClientError::Decode("create_task emitted no task_id".into()))?
            .parse()
            .map_err(|e| ClientError::Decode(format!("task_id: {e}")))?;
        Ok((task_id, outcome))
    }

    /// Joins `task_id` in `role` with `amount` of stake (or adds to it).
    pub async fn stake(
        &self,
        signer: &Signer,
        task_id: u64,
        role: Role,
        amount: u128,
    ) -> Result<TxOutcome, ClientError> {
        self.send_tokens(signer, amount, &ReceiveMsg::Stake { task_id, role }).await
    }

    /// Delegates `amount` to `operator` in `task_id`.
    pub async fn delegate(
        &self,
        signer: &Signer,
        task_id: u64,
        operator: &str,
        amount: u128,
    ) -> Result<TxOutcome, ClientError> {
        self.send_tokens(signer, amount, &ReceiveMsg::Delegate { task_id, operator: operator.to_string() }).await
    }

    /// A market query answered as `R`.
    pub async fn query<R: DeserializeOwned>(&self, msg: &QueryMsg) -> Result<R, ClientError> {
        self.client.query_contract(&self.market, msg).await
    }

    pub async fn task(&self, task_id: u64) -> Result<TaskResponse, ClientError> {
        self.query(&QueryMsg::Task { task_id }).await
    }

    pub async fn round(&self, task_id: u64, round: u32) -> Result<RoundResponse, ClientError> {
        self.query(&QueryMsg::Round { task_id, round }).await
    }

    pub async fn submission(&self, task_id: u64, submission_id: u64) -> Result<SubmissionResponse, ClientError> {
        self.query(&QueryMsg::Submission { task_id, submission_id }).await
    }

    /// One page of a round's submissions.
    pub async fn submissions(
        &self,
        task_id: u64,
        round: u32,
        start_after: Option<u64>,
        limit: u32,
    ) -> Result<SubmissionsResponse, ClientError> {
        self.query(&QueryMsg::Submissions { task_id, round: Some(round), start_after, limit: Some(limit) }).await
    }

    /// One page of the submissions `validator` is assigned to.
    pub async fn validator_assignments(
        &self,
        task_id: u64,
        validator: &str,
        start_after: Option<u64>,
        limit: u32,
    ) -> Result<AssignmentsResponse, ClientError> {
        self.query(&QueryMsg::ValidatorAssignments {
            task_id,
            validator: validator.to_string(),
            start_after,
            limit: Some(limit),
        })
        .await
    }

    /// The task's beacon: the last value revealed, and which round's value is due when.
    pub async fn beacon(&self, task_id: u64) -> Result<BeaconResponse, ClientError> {
        self.query(&QueryMsg::Beacon { task_id }).await
    }

    /// What counted of `address`'s stake in `round` (the snapshot sampling and pay used).
    pub async fn stake_at(&self, task_id: u64, address: &str, round: u32) -> Result<StakeAtResponse, ClientError> {
        self.query(&QueryMsg::StakeAt { task_id, address: address.to_string(), round }).await
    }

    /// Sends round `round`'s beacon value (anyone holding it may).
    pub async fn reveal_beacon(
        &self,
        signer: &Signer,
        task_id: u64,
        round: u32,
        value: [u8; 32],
    ) -> Result<TxOutcome, ClientError> {
        self.execute(signer, &ExecuteMsg::RevealBeacon { task_id, round, value: HexBinary::from(value) }).await
    }

    /// Does the creator's beacon duty once: reveals the value of the latest round whose stakes
    /// are frozen, unless it is on chain already or that round's sampling started without it.
    /// Earlier rounds are never revealed late: once a later round's stakes froze, an earlier
    /// round's commit phase (the only time it is sampled) is over. The chain is the only state,
    /// so a caller that crashed and restarts simply calls again.
    pub async fn reveal_due_beacon(
        &self,
        signer: &Signer,
        task_id: u64,
        secret: &BeaconSecret,
    ) -> Result<BeaconStep, ClientError> {
        let task = self.task(task_id).await?;
        let rounds = task.params.rounds;
        if task.params.beacon.as_slice() != secret.anchor(rounds) {
            return Err(ClientError::Key(format!(
                "the beacon secret does not hash to task {task_id}'s anchor {}: it is another task's secret",
                task.params.beacon
            )));
        }
        let revealed = self.beacon(task_id).await?.revealed_round;
        if revealed >= rounds {
            return Ok(BeaconStep::Finished);
        }
        // The latest round whose stakes are frozen: the one before the first that still counts.
        let due = task.stakes_count_from.saturating_sub(1).min(rounds);
        if revealed >= due {
            let round = due + 1;
            return Ok(BeaconStep::NotYet { round, opens_at: task.schedule.stake_freeze(round) });
        }
        let too_late = |round: u32| if round == rounds { BeaconStep::Finished } else { BeaconStep::TooLate { round } };
        if self.round(task_id, due).await?.seed.is_some() {
            return Ok(too_late(due));
        }
        match self.reveal_beacon(signer, task_id, due, secret.value(rounds, due)).await {
            Ok(outcome) => Ok(BeaconStep::Revealed { round: due, outcome }),
            // Refused or lost: the chain says whether it is done after all (an earlier copy of
            // this transaction landed, or sampling began in between) or worth another try.
            Err(e) => {
                if self.beacon(task_id).await?.revealed_round >= due {
                    let round = due + 1;
                    Ok(BeaconStep::NotYet { round, opens_at: task.schedule.stake_freeze(round) })
                } else if self.round(task_id, due).await?.seed.is_some() {
                    Ok(too_late(due))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Sends round `round`'s evaluation key (anyone holding it may).
    pub async fn reveal_evaluation_key(
        &self,
        signer: &Signer,
        task_id: u64,
        round: u32,
        key: &[u8; 32],
    ) -> Result<TxOutcome, ClientError> {
        self.execute(signer, &ExecuteMsg::RevealEvaluationKey { task_id, round, key: HexBinary::from(key) }).await
    }

    /// Does the creator's key duty once: reveals the current round's evaluation key once its
    /// commit phase opens (every model of the round is sealed and revealed by then), unless it is
    /// on chain already or the round went void without it. As with the beacon, the chain is the
    /// only state: a caller that crashed and restarts simply calls again, and a key never goes
    /// out before its round's commit phase, whatever the caller's clock says.
    pub async fn reveal_due_evaluation_key(
        &self,
        signer: &Signer,
        task_id: u64,
        keys: &EvaluationKeys,
    ) -> Result<KeyStep, ClientError> {
        let task = self.task(task_id).await?;
        keys.check(task_id, &task.params.evaluation)?;
        let rounds = task.params.rounds;
        let round = task.now.round;
        // What is due once `round`'s key is on chain: the next round's, from its commit phase.
        let after = |round: u32| {
            if round < rounds {
                KeyStep::NotYet { round: round + 1, opens_at: task.schedule.commit_start(round + 1) }
            } else {
                KeyStep::Finished
            }
        };
        match task.now.phase {
            Phase::Submission | Phase::ModelReveal => {
                return Ok(KeyStep::NotYet { round, opens_at: task.schedule.commit_start(round) })
            }
            Phase::Closed => return Ok(KeyStep::Finished),
            Phase::Commit | Phase::Reveal => {}
        }
        let state = self.round(task_id, round).await?;
        if state.evaluation_key.is_some() {
            return Ok(after(round));
        }
        if state.void || task.now.phase == Phase::Reveal {
            return Ok(KeyStep::TooLate { round });
        }
        let key = keys.key(round).expect("checked: one key per round");
        match self.reveal_evaluation_key(signer, task_id, round, key).await {
            Ok(outcome) => Ok(KeyStep::Revealed { round, outcome }),
            // Refused or lost: the chain says whether it is done after all (an earlier copy of
            // this transaction landed) or too late (past the deadline), or worth another try.
            Err(e) => {
                let state = self.round(task_id, round).await?;
                if state.evaluation_key.is_some() {
                    Ok(after(round))
                } else if state.void || self.past(task.schedule.clock, task.schedule.key_deadline(round)).await? {
                    Ok(KeyStep::TooLate { round })
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Whether a height-clocked deadline has passed. A time-clocked task is judged by its phase
    /// alone (the client does not read block times): a refused reveal there is retried until the
    /// phase moves on.
    async fn past(&self, clock: Clock, deadline: u64) -> Result<bool, ClientError> {
        match clock {
            Clock::Height => Ok(self.client.latest_height().await? >= deadline),
            Clock::Time => Ok(false),
        }
    }

    pub async fn claimable(&self, address: &str) -> Result<u128, ClientError> {
        let r: RewardsResponse = self.query(&QueryMsg::Rewards { address: address.to_string() }).await?;
        Ok(r.claimable.u128())
    }

    /// Cranks finalization of `round` page by page until it is done; returns each page's outcome.
    pub async fn finalize_round(
        &self,
        signer: &Signer,
        task_id: u64,
        round: u32,
        page: u32,
    ) -> Result<Vec<TxOutcome>, ClientError> {
        let mut pages = Vec::new();
        while !self.round(task_id, round).await?.finalized {
            pages.push(self.execute(signer, &ExecuteMsg::Finalize { task_id, round, limit: Some(page) }).await?);
        }
        Ok(pages)
    }

    /// Waits until `task_id` is in `round`'s `phase` (or later), sleeping about a block between
    /// looks; returns the phase it found. Works for tasks clocked by height or by time.
    pub async fn wait_for_phase(&self, task_id: u64, round: u32, phase: Phase) -> Result<RoundPhase, ClientError> {
        loop {
            let now = self.task(task_id).await?.now;
            if (now.round, phase_order(now.phase)) >= (round, phase_order(phase)) {
                return Ok(now);
            }
            tokio::time::sleep(PHASE_POLL).await;
        }
    }

    /// Cranks assignment of the current round until every submission has its validators.
    pub async fn assign_all(
        &self,
        signer: &Signer,
        task_id: u64,
        round: u32,
        page: u32,
    ) -> Result<Vec<TxOutcome>, ClientError> {
        let mut pages = Vec::new();
        loop {
            let r = self.round(task_id, round).await?;
            if r.assigned >= r.submissions {
                return Ok(pages);
            }
            pages.push(self.execute(signer, &ExecuteMsg::Assign { task_id, limit: Some(page) }).await?);
        }
    }
}
