//! A suite with the token and the market deployed, and verb-named helpers to drive them.

use arena_types::market::commitment::{beacon_value, evaluation_key_hash, model_commitment, score_commitment};
use arena_types::market::msg::{
    AssignmentsResponse, BeaconResponse, DataCommitment, DelegationResponse, EvaluationShard, ExecuteMsg,
    InstantiateMsg, Metric, ModelConstraints, ModelMetadata, ParticipantResponse, Phases, QueryMsg, ReceiveMsg,
    RewardsResponse, Role, RoundResponse, SlashEventsResponse, StakeAtResponse, SubmissionResponse, TaskParams,
    TaskResponse,
};
use arena_types::market::phase::{Clock, Schedule};
use cosmwasm_std::{to_json_binary, Addr, Decimal, Empty, HexBinary, Uint128};
use cw20::{BalanceResponse, Cw20Coin, Cw20ExecuteMsg};
use cw_multi_test::{App, AppResponse, Contract, ContractWrapper, Executor};

use crate::ContractError;

/// Block time the suite's clock moves per block.
pub const SECONDS_PER_BLOCK: u64 = 5;

/// Every named account starts with this many tokens.
pub const START_BALANCE: u128 = 1_000_000;

/// The secret behind every test task's beacon chain ([`Suite::create_task`] sets the anchor).
pub const BEACON_SECRET: [u8; 32] = [77u8; 32];

fn token_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(
        arena_token::contract::execute,
        arena_token::contract::instantiate,
        arena_token::contract::query,
    ))
}

fn market_contract() -> Box<dyn Contract<Empty>> {
    Box::new(
        ContractWrapper::new(crate::contract::execute, crate::contract::instantiate, crate::contract::query)
            .with_migrate(crate::contract::migrate),
    )
}

/// The suite plays the honest side of every participant it is not told otherwise about: the models
/// sealed with [`Suite::submit`] are revealed, and each task's evaluation keys too, at the first
/// block of their phase that the clock passes, as trainer and creator nodes would.
pub struct Suite {
    pub app: App,
    pub token: Addr,
    pub market: Addr,
    pub admin: Addr,
    /// Models sealed with [`Suite::submit`], not yet revealed.
    sealed: Vec<Sealed>,
    /// Tasks created here and their schedules, for the creator's key reveals.
    schedules: Vec<(u64, Schedule)>,
    /// Whether the creator reveals each round's evaluation key on time (tests of void rounds turn
    /// it off).
    pub reveal_keys: bool,
}

/// A model sealed by a test trainer: its hash is `[tag; 32]`.
struct Sealed {
    task_id: u64,
    round: u32,
    trainer: Addr,
    tag: u8,
}

/// The parameters most tests use: 3 rounds of 10 + 2 + 5 + 5 blocks, k = 3; the market's defaults
/// but for stakes of hundreds of units, a steeper rank decay and heavier slashes, which the
/// hand-computed expectations of `whole_task.rs` assume.
pub fn default_params() -> TaskParams {
    TaskParams {
        min_trainer_stake: Uint128::new(100),
        min_validator_stake: Uint128::new(100),
        q: Decimal::percent(50),
        liveness_slash: Decimal::percent(10),
        outlier_slash: Decimal::percent(20),
        ..TaskParams::with_defaults(
            Metric {
                name: "accuracy_ppm".into(),
                description: "top-1 accuracy on the evaluation set, in parts per million".into(),
            },
            // Replaced by the anchor of BEACON_SECRET for the task's rounds in `create_task`.
            HexBinary::from([0u8; 32]),
            DataCommitment { uri: "file://data/train.bin".into(), sha256: HexBinary::from([1u8; 32]) },
            shards(3),
            ModelConstraints { family: "mlp".into(), max_parameters: 1_000_000, max_file_bytes: 4_000_000 },
            Phases { clock: Clock::Height, submission: 10, model_reveal: 2, commit: 5, reveal: 5, unbonding: 22 },
        )
    }
}

/// The key of a test task's evaluation shard of `round`.
pub fn evaluation_key(round: u32) -> [u8; 32] {
    let mut key = [0x4bu8; 32];
    key[..4].copy_from_slice(&round.to_be_bytes());
    key
}

/// Evaluation shards for `rounds` rounds, locked with [`evaluation_key`].
pub fn shards(rounds: u32) -> Vec<EvaluationShard> {
    (1..=rounds)
        .map(|r| EvaluationShard {
            uri: format!("file://data/eval-{r}.csv.enc"),
            sha256: HexBinary::from([r as u8; 32]),
            key_sha256: HexBinary::from(evaluation_key_hash(&evaluation_key(r))),
        })
        .collect()
}

/// The salt a test trainer seals its model of `round` with.
pub fn model_salt(trainer: &Addr, round: u32) -> [u8; 32] {
    let mut salt = [0x5au8; 32];
    salt[..4].copy_from_slice(&round.to_be_bytes());
    let b = trainer.as_bytes();
    let n = b.len().min(28);
    salt[4..4 + n].copy_from_slice(&b[b.len() - n..]);
    salt
}

/// The salt a test validator uses on a submission.
pub fn salt_for(validator: &Addr, submission_id: u64) -> [u8; 32] {
    let mut salt = [0u8; 32];
    let b = validator.as_bytes();
    salt[..8].copy_from_slice(&submission_id.to_be_bytes());
    let n = b.len().min(24);
    salt[8..8 + n].copy_from_slice(&b[b.len() - n..]);
    salt
}

/// The model metadata every test trainer submits.
pub fn metadata() -> ModelMetadata {
    ModelMetadata { family: "mlp".into(), parameters: 101_770, file_bytes: 407_080, notes: None }
}

/// The typed error inside a failed execution (the market's, even behind a cw20 hook).
pub fn contract_err(e: anyhow::Error) -> ContractError {
    match e.downcast::<ContractError>() {
        Ok(err) => err,
        Err(e) => panic!("not a market error: {e:?}"),
    }
}

impl Suite {
    /// Deploys the token (each of `accounts` funded with START_BALANCE) and the market.
    pub fn new(accounts: &[&str]) -> Suite {
        let mut app = App::default();
        let admin = app.api().addr_make("admin");
        let token_code = app.store_code(token_contract());
        let market_code = app.store_code(market_contract());
        let mut initial_balances: Vec<Cw20Coin> = accounts
            .iter()
            .map(|a| Cw20Coin { address: app.api().addr_make(a).to_string(), amount: Uint128::new(START_BALANCE) })
            .collect();
        initial_balances.push(Cw20Coin { address: admin.to_string(), amount: Uint128::new(START_BALANCE) });
        let token = app
            .instantiate_contract(
                token_code,
                admin.clone(),
                &arena_token::msg::InstantiateMsg {
                    name: "Arena Token".into(),
                    symbol: "ARENA".into(),
                    decimals: 6,
                    initial_balances,
                    mint: None,
                    marketing: None,
                },
                &[],
                "arena-token",
                None,
            )
            .unwrap();
        let market = app
            .instantiate_contract(
                market_code,
                admin.clone(),
                &InstantiateMsg {
                    admin: Some(admin.to_string()),
                    token: token.to_string(),
                    max_commission: Decimal::percent(50),
                    max_commission_change: Decimal::percent(10),
                    bridge: None,
                    // Test rewards are thousands of units, not whole tokens.
                    min_evm_withdrawal: Some(Uint128::new(1_000)),
                    bridge_change_delay: None,
                },
                &[],
                "arena-market",
                Some(admin.to_string()),
            )
            .unwrap();
        Suite { app, token, market, admin, sealed: vec![], schedules: vec![], reveal_keys: true }
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    pub fn height(&self) -> u64 {
        self.app.block_info().height
    }

    /// Moves the clock `n` blocks on, stopping on the way where an honest trainer reveals its
    /// sealed model or the creator its evaluation key (see [`Suite`]).
    pub fn advance_blocks(&mut self, n: u64) {
        let mut left = n;
        while let Some(blocks) = self.blocks_to_next_duty().filter(|b| *b <= left) {
            self.step(blocks);
            left -= blocks;
            self.do_duties();
        }
        self.step(left);
    }

    fn step(&mut self, n: u64) {
        self.app.update_block(|b| {
            b.height += n;
            b.time = b.time.plus_seconds(SECONDS_PER_BLOCK * n);
        });
    }

    /// Now, in a task's clock.
    fn now_in(&self, s: &Schedule) -> u64 {
        match s.clock {
            Clock::Height => self.height(),
            Clock::Time => self.app.block_info().time.seconds(),
        }
    }

    fn schedule_of(&self, task_id: u64) -> Schedule {
        self.schedules.iter().find(|(t, _)| *t == task_id).map(|(_, s)| *s).expect("a task created by the suite")
    }

    /// Blocks from now until the next honest duty not yet done (0: due now), if any.
    fn blocks_to_next_duty(&self) -> Option<u64> {
        let blocks_until = |s: &Schedule, at: u64| {
            let wait = at.saturating_sub(self.now_in(s));
            match s.clock {
                Clock::Height => wait,
                Clock::Time => wait.div_ceil(SECONDS_PER_BLOCK),
            }
        };
        let models = self.sealed.iter().filter_map(|m| {
            let s = self.schedule_of(m.task_id);
            (self.now_in(&s) < s.commit_start(m.round)).then(|| blocks_until(&s, s.model_reveal_start(m.round)))
        });
        let keys = self.schedules.iter().filter(|_| self.reveal_keys).flat_map(|(task_id, s)| {
            let now = self.now_in(s);
            (1..=s.rounds)
                .filter(move |r| now < s.key_deadline(*r) && !self.key_revealed(*task_id, *r))
                .map(|r| blocks_until(s, s.commit_start(r)))
        });
        models.chain(keys).min()
    }

    fn key_revealed(&self, task_id: u64, round: u32) -> bool {
        let q = QueryMsg::Round { task_id, round };
        self.app.wrap().query_wasm_smart::<RoundResponse>(&self.market, &q).map(|r| r.evaluation_key.is_some()).unwrap()
    }

    /// Does what is due now: reveals sealed models in their model-reveal phase, and keys in
    /// their window.
    fn do_duties(&mut self) {
        let sealed = std::mem::take(&mut self.sealed);
        for m in sealed {
            let s = self.schedule_of(m.task_id);
            if self.now_in(&s) >= s.model_reveal_start(m.round) {
                self.reveal_model(&m.trainer, m.task_id, m.tag).unwrap();
            } else {
                self.sealed.push(m);
            }
        }
        if !self.reveal_keys {
            return;
        }
        for (task_id, s) in self.schedules.clone() {
            let now = self.now_in(&s);
            let round = s.at(now).round;
            if s.commit_start(round) <= now && now < s.key_deadline(round) && !self.key_revealed(task_id, round) {
                self.reveal_key(task_id, round).unwrap();
            }
        }
    }

    /// Lets the market's default bridge change delay pass (block time only, not heights).
    pub fn wait_for_bridge_change(&mut self) {
        let delay = arena_types::market::msg::DEFAULT_BRIDGE_CHANGE_DELAY;
        self.app.update_block(|b| b.time = b.time.plus_seconds(delay));
    }

    /// Moves to the first block of `round`'s `phase` (0 submission, 1 commit, 2 reveal, 3 the
    /// round's end) for a task created at `start` with the default phase lengths.
    pub fn advance_to(&mut self, height: u64) {
        let h = self.height();
        assert!(height >= h, "cannot go back from {h} to {height}");
        self.advance_blocks(height - h);
    }

    pub fn execute(&mut self, sender: &Addr, msg: &ExecuteMsg) -> Result<AppResponse, ContractError> {
        self.app.execute_contract(sender.clone(), self.market.clone(), msg, &[]).map_err(contract_err)
    }

    /// Sends `amount` of the token to the market with `hook`.
    pub fn send(&mut self, sender: &Addr, amount: u128, hook: &ReceiveMsg) -> Result<AppResponse, ContractError> {
        self.app
            .execute_contract(
                sender.clone(),
                self.token.clone(),
                &Cw20ExecuteMsg::Send {
                    contract: self.market.to_string(),
                    amount: Uint128::new(amount),
                    msg: to_json_binary(hook).unwrap(),
                },
                &[],
            )
            .map_err(contract_err)
    }

    /// Creates a task whose beacon chain is [`BEACON_SECRET`]'s, with [`shards`] for its rounds
    /// and a creator bond equal to the pool (sent with it).
    pub fn create_task(&mut self, creator: &Addr, pool: u128, mut params: TaskParams) -> Result<u64, ContractError> {
        params.beacon = HexBinary::from(beacon_value(&BEACON_SECRET, params.rounds, 0));
        params.evaluation = shards(params.rounds);
        params.creator_bond = Uint128::new(pool);
        let res = self.send(creator, 2 * pool, &ReceiveMsg::CreateTask(params))?;
        let task_id: u64 = attr(&res, "task_id").parse().unwrap();
        let schedule = self.task(task_id).schedule;
        self.schedules.push((task_id, schedule));
        Ok(task_id)
    }

    /// Reveals the evaluation key of `round` (as the creator's daemon would).
    pub fn reveal_key(&mut self, task_id: u64, round: u32) -> Result<AppResponse, ContractError> {
        let creator = self.addr("creator");
        let key = HexBinary::from(evaluation_key(round));
        self.execute(&creator, &ExecuteMsg::RevealEvaluationKey { task_id, round, key })
    }

    /// Reveals the beacon value of `round` (as the creator's daemon would).
    pub fn reveal_beacon(&mut self, task_id: u64, round: u32) -> Result<AppResponse, ContractError> {
        let rounds = self.task(task_id).params.rounds;
        let value = HexBinary::from(beacon_value(&BEACON_SECRET, rounds, round));
        let creator = self.addr("creator");
        self.execute(&creator, &ExecuteMsg::RevealBeacon { task_id, round, value })
    }

    pub fn beacon(&self, task_id: u64) -> BeaconResponse {
        self.query(&QueryMsg::Beacon { task_id })
    }

    pub fn stake_at(&self, task_id: u64, who: &Addr, round: u32) -> StakeAtResponse {
        self.query(&QueryMsg::StakeAt { task_id, address: who.to_string(), round })
    }

    pub fn stake(&mut self, who: &Addr, task_id: u64, role: Role, amount: u128) -> Result<AppResponse, ContractError> {
        self.send(who, amount, &ReceiveMsg::Stake { task_id, role })
    }

    pub fn delegate(
        &mut self,
        who: &Addr,
        task_id: u64,
        operator: &Addr,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        self.send(who, amount, &ReceiveMsg::Delegate { task_id, operator: operator.to_string() })
    }

    /// Seals the model `[tag; 32]`, to be revealed when the clock passes the round's
    /// model-reveal phase; returns the submission id.
    pub fn submit(&mut self, trainer: &Addr, task_id: u64, tag: u8) -> Result<u64, ContractError> {
        let id = self.submit_unrevealed(trainer, task_id, tag)?;
        let round = self.submission(task_id, id).round;
        self.sealed.push(Sealed { task_id, round, trainer: trainer.clone(), tag });
        Ok(id)
    }

    /// Seals the model `[tag; 32]` and leaves revealing it to the test.
    pub fn submit_unrevealed(&mut self, trainer: &Addr, task_id: u64, tag: u8) -> Result<u64, ContractError> {
        let round = self.task(task_id).now.round;
        let commitment = model_commitment(task_id, round, trainer.as_str(), &[tag; 32], &model_salt(trainer, round));
        let res = self.execute(trainer, &ExecuteMsg::Submit { task_id, commitment: HexBinary::from(commitment) })?;
        Ok(attr(&res, "submission_id").parse().unwrap())
    }

    /// Reveals the model `[tag; 32]` with the trainer's salt for the current round.
    pub fn reveal_model(&mut self, trainer: &Addr, task_id: u64, tag: u8) -> Result<AppResponse, ContractError> {
        let round = self.task(task_id).now.round;
        self.execute(trainer, &reveal_model_msg(task_id, tag, &model_salt(trainer, round)))
    }

    /// Cranks assignment, revealing the round's beacon first if it is due and not yet revealed
    /// (tests of the beacon itself call `Assign` directly).
    pub fn assign(&mut self, task_id: u64, limit: Option<u32>) -> Result<AppResponse, ContractError> {
        let now = self.task(task_id).now;
        if self.beacon(task_id).revealed_round < now.round {
            // Refused once the round's sampling started; then Assign needs no beacon.
            let _ = self.reveal_beacon(task_id, now.round);
        }
        let anyone = self.addr("cranker");
        self.execute(&anyone, &ExecuteMsg::Assign { task_id, limit })
    }

    pub fn commit(
        &mut self,
        validator: &Addr,
        task_id: u64,
        submission_id: u64,
        score: u32,
    ) -> Result<AppResponse, ContractError> {
        self.commit_with_baseline(validator, task_id, submission_id, score, 0)
    }

    /// Commits to a score and a measured baseline.
    pub fn commit_with_baseline(
        &mut self,
        validator: &Addr,
        task_id: u64,
        submission_id: u64,
        score: u32,
        baseline: u32,
    ) -> Result<AppResponse, ContractError> {
        let round = self.submission(task_id, submission_id).round;
        let salt = salt_for(validator, submission_id);
        let c = score_commitment(task_id, round, submission_id, validator.as_str(), score, baseline, &salt);
        self.execute(validator, &ExecuteMsg::Commit { task_id, submission_id, commitment: HexBinary::from(c) })
    }

    pub fn reveal(
        &mut self,
        validator: &Addr,
        task_id: u64,
        submission_id: u64,
        score: u32,
    ) -> Result<AppResponse, ContractError> {
        self.reveal_with_baseline(validator, task_id, submission_id, score, 0)
    }

    pub fn reveal_with_baseline(
        &mut self,
        validator: &Addr,
        task_id: u64,
        submission_id: u64,
        score: u32,
        baseline: u32,
    ) -> Result<AppResponse, ContractError> {
        let salt = HexBinary::from(salt_for(validator, submission_id));
        self.execute(validator, &ExecuteMsg::Reveal { task_id, submission_id, score, baseline, salt })
    }

    pub fn finalize(&mut self, task_id: u64, round: u32, limit: Option<u32>) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("cranker");
        self.execute(&anyone, &ExecuteMsg::Finalize { task_id, round, limit })
    }

    /// Cranks finalization of `round` until done; returns the number of calls it took.
    pub fn finalize_all(&mut self, task_id: u64, round: u32, limit: u32) -> u32 {
        let mut calls = 0;
        loop {
            let res = self.finalize(task_id, round, Some(limit)).unwrap();
            calls += 1;
            if attr(&res, "stage") == "done" {
                return calls;
            }
        }
    }

    pub fn claim(&mut self, who: &Addr) -> Result<AppResponse, ContractError> {
        self.execute(who, &ExecuteMsg::Claim {})
    }

    pub fn balance(&self, who: &Addr) -> u128 {
        let r: BalanceResponse = self
            .app
            .wrap()
            .query_wasm_smart(&self.token, &cw20::Cw20QueryMsg::Balance { address: who.to_string() })
            .unwrap();
        r.balance.u128()
    }

    fn query<T: cosmwasm_schema::serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app.wrap().query_wasm_smart(&self.market, msg).unwrap()
    }

    pub fn task(&self, task_id: u64) -> TaskResponse {
        self.query(&QueryMsg::Task { task_id })
    }

    pub fn round(&self, task_id: u64, round: u32) -> RoundResponse {
        self.query(&QueryMsg::Round { task_id, round })
    }

    pub fn submission(&self, task_id: u64, submission_id: u64) -> SubmissionResponse {
        self.query(&QueryMsg::Submission { task_id, submission_id })
    }

    pub fn assignments(&self, task_id: u64, submission_id: u64) -> AssignmentsResponse {
        self.query(&QueryMsg::Assignments { task_id, submission_id, start_after: None, limit: None })
    }

    /// The validators assigned to a submission.
    pub fn assigned_validators(&self, task_id: u64, submission_id: u64) -> Vec<Addr> {
        self.assignments(task_id, submission_id).assignments.into_iter().map(|a| a.validator).collect()
    }

    pub fn participant(&self, task_id: u64, who: &Addr) -> ParticipantResponse {
        self.query(&QueryMsg::Participant { task_id, address: who.to_string() })
    }

    pub fn delegation(&self, task_id: u64, delegator: &Addr, operator: &Addr) -> DelegationResponse {
        self.query(&QueryMsg::Delegation { task_id, delegator: delegator.to_string(), operator: operator.to_string() })
    }

    /// The live delegated amount (0 without a delegation).
    pub fn delegation_amount(&self, task_id: u64, delegator: &Addr, operator: &Addr) -> u128 {
        let q = QueryMsg::Delegation { task_id, delegator: delegator.to_string(), operator: operator.to_string() };
        self.app.wrap().query_wasm_smart::<DelegationResponse>(&self.market, &q).map(|d| d.amount.u128()).unwrap_or(0)
    }

    /// The live own stake (0 for a stranger).
    pub fn participant_own(&self, task_id: u64, who: &Addr) -> u128 {
        let q = QueryMsg::Participant { task_id, address: who.to_string() };
        self.app.wrap().query_wasm_smart::<ParticipantResponse>(&self.market, &q).map(|p| p.own.u128()).unwrap_or(0)
    }

    pub fn rewards(&self, who: &Addr) -> u128 {
        let r: RewardsResponse = self.query(&QueryMsg::Rewards { address: who.to_string() });
        r.claimable.u128()
    }

    pub fn slash_events(&self, task_id: u64) -> SlashEventsResponse {
        self.query(&QueryMsg::SlashEvents { task_id, start_after: None, limit: Some(100) })
    }

    /// Checks the task's books: entered = pool + bond + in_finalization + stake + unbonding +
    /// rewarded + withdrawn + reclaimed.
    pub fn assert_books_balance(&self, task_id: u64) {
        let a = self.task(task_id).accounts;
        assert_eq!(
            a.entered,
            a.pool + a.bond + a.in_finalization + a.stake + a.unbonding + a.rewarded + a.withdrawn + a.reclaimed,
            "books of task {task_id} do not balance: {a:?}"
        );
    }
}

/// The value of the first attribute named `key` in any event of a response.
pub fn attr(res: &AppResponse, key: &str) -> String {
    res.events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("no attribute {key} in {:?}", res.events))
        .value
        .clone()
}

/// The `RevealModel` message of the model `[tag; 32]` sealed with `salt`.
pub fn reveal_model_msg(task_id: u64, tag: u8, salt: &[u8; 32]) -> ExecuteMsg {
    ExecuteMsg::RevealModel {
        task_id,
        model_sha256: HexBinary::from([tag; 32]),
        uri: format!("file://models/{tag}.safetensors"),
        metadata: metadata(),
        salt: HexBinary::from(*salt),
    }
}

/// Offsets into a round with the default phase lengths (10 + 2 + 5 + 5 blocks).
pub const SUBMIT: u64 = 0;
pub const MODEL_REVEAL: u64 = 10;
pub const COMMIT: u64 = 12;
pub const REVEAL: u64 = 17;
pub const END: u64 = 22;

/// The height of `offset` into `round` of a task created at height `start` (default phases).
pub fn at(start: u64, round: u32, offset: u64) -> u64 {
    start + u64::from(round - 1) * END + offset
}

/// A task with `trainers` and `validators` staked (1_000 each), created by "creator" with a
/// pool of 30_000 (and a bond of as much); returns (suite, task id, creation height, trainers, validators).
pub fn running_task(params: TaskParams, trainers: usize, validators: usize) -> (Suite, u64, u64, Vec<Addr>, Vec<Addr>) {
    let mut names: Vec<String> = vec!["creator".into()];
    names.extend((0..trainers).map(|i| format!("trainer{i}")));
    names.extend((0..validators).map(|i| format!("validator{i}")));
    names.extend((0..3).map(|i| format!("delegator{i}")));
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let mut suite = Suite::new(&refs);
    let creator = suite.addr("creator");
    let start = suite.height();
    let task = suite.create_task(&creator, 30_000, params).unwrap();
    let ts: Vec<Addr> = (0..trainers).map(|i| suite.addr(&format!("trainer{i}"))).collect();
    let vs: Vec<Addr> = (0..validators).map(|i| suite.addr(&format!("validator{i}"))).collect();
    for t in &ts {
        suite.stake(t, task, Role::Trainer, 1_000).unwrap();
    }
    for v in &vs {
        suite.stake(v, task, Role::Validator, 1_000).unwrap();
    }
    (suite, task, start, ts, vs)
}
