//! The test world: an App with arena-token, the bridge, users with tokens, and attester keys;
//! plus verb helpers that send one message each.

use arena_types::settlement::{batch_digest, evm_address_from_pubkey, BatchSource, EvmAddress};
use cosmwasm_std::{to_json_binary, Addr, Uint128};
use cw20::{BalanceResponse, Cw20Coin, Cw20ReceiveMsg};
use cw_multi_test::error::{AnyError, AnyResult};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use k256::ecdsa::SigningKey;

use crate::contract::{execute, instantiate, migrate, query};
use crate::msg::{
    AttestationsResponse, Attester, BatchPolicy, BatchResponse, BatchStatus, BatchesResponse, ConfigResponse,
    ExecuteMsg, InstantiateMsg, LeavesResponse, OutboxResponse, ProofResponse, QueryMsg, ReceiveMsg,
    WithdrawalsResponse,
};
use crate::ContractError;

/// The EVM settlement contract the digests are bound to (EIP-55's first example address).
pub const SETTLEMENT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
/// An EVM recipient (EIP-55's second example address).
pub const RECIPIENT: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
/// Another EVM recipient (EIP-55's third example address).
pub const RECIPIENT_2: &str = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";
pub const CHAIN_ID: u64 = 84532;
/// Each user starts with this many tokens.
pub const START_BALANCE: u128 = 1_000_000;

/// An EVM attester key and the Cosmos account of its relayer.
pub struct TestAttester {
    pub key: SigningKey,
    pub evm: EvmAddress,
    pub operator: Addr,
}

impl TestAttester {
    /// A deterministic key from a small scalar (1, 2, 3, ...).
    pub fn new(app: &App, scalar: u8) -> Self {
        let mut bytes = [0u8; 32];
        bytes[31] = scalar;
        let key = SigningKey::from_bytes(&bytes.into()).unwrap();
        let evm = evm_address_from_pubkey(key.verifying_key().to_encoded_point(false).as_bytes()).unwrap();
        let operator = app.api().addr_make(&format!("relayer{scalar}"));
        Self { key, evm, operator }
    }

    /// `r || s || v` (v = 27/28) over `digest`, as hex.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> String {
        let (sig, recid) = self.key.sign_prehash_recoverable(digest).unwrap();
        let mut out = sig.to_bytes().to_vec();
        out.push(27 + recid.to_byte());
        format!("0x{}", hex_encode(&out))
    }
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Suite {
    pub app: App,
    pub token_code: u64,
    pub bridge_code: u64,
    pub token: Addr,
    pub bridge: Addr,
    pub admin: Addr,
    pub alice: Addr,
    pub bob: Addr,
    pub attesters: Vec<TestAttester>,
}

/// The knobs tests turn; `Default` is 3 attesters, threshold 2, batches of 3 or 10 blocks old.
pub struct Options {
    pub attesters: u8,
    pub threshold: u32,
    pub max_leaves: u32,
    pub max_age_blocks: u64,
    pub evm_settlement: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            attesters: 3,
            threshold: 2,
            max_leaves: 3,
            max_age_blocks: 10,
            evm_settlement: Some(SETTLEMENT.to_string()),
        }
    }
}

pub fn contract_error(err: AnyError) -> ContractError {
    match err.downcast::<ContractError>() {
        Ok(e) => e,
        Err(other) => panic!("expected a ContractError, got: {other:?}"),
    }
}

impl Suite {
    pub fn new() -> Self {
        Self::with(Options::default())
    }

    pub fn with(options: Options) -> Self {
        let mut app = App::default();
        let admin = app.api().addr_make("admin");
        let alice = app.api().addr_make("alice");
        let bob = app.api().addr_make("bob");
        let token_code = app.store_code(Box::new(ContractWrapper::new(
            arena_token::contract::execute,
            arena_token::contract::instantiate,
            arena_token::contract::query,
        )));
        let bridge_code =
            app.store_code(Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate)));
        let token = instantiate_token(&mut app, token_code, &admin, &[&alice, &bob]);
        let attesters: Vec<TestAttester> = (1..=options.attesters).map(|i| TestAttester::new(&app, i)).collect();
        let msg = InstantiateMsg {
            admin: admin.to_string(),
            token: token.to_string(),
            attesters: attesters
                .iter()
                .map(|a| Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() })
                .collect(),
            threshold: options.threshold,
            evm_chain_id: CHAIN_ID,
            evm_settlement: options.evm_settlement,
            batch_policy: BatchPolicy { max_leaves: options.max_leaves, max_age_blocks: options.max_age_blocks },
        };
        let bridge =
            app.instantiate_contract(bridge_code, admin.clone(), &msg, &[], "bridge", Some(admin.to_string())).unwrap();
        Self { app, token_code, bridge_code, token, bridge, admin, alice, bob, attesters }
    }

    /// The default instantiate message of this suite, for tests that vary one field.
    pub fn instantiate_msg(&self) -> InstantiateMsg {
        InstantiateMsg {
            admin: self.admin.to_string(),
            token: self.token.to_string(),
            attesters: self
                .attesters
                .iter()
                .map(|a| Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() })
                .collect(),
            threshold: 2,
            evm_chain_id: CHAIN_ID,
            evm_settlement: Some(SETTLEMENT.to_string()),
            batch_policy: BatchPolicy { max_leaves: 3, max_age_blocks: 10 },
        }
    }

    pub fn instantiate_bridge(&mut self, msg: &InstantiateMsg) -> AnyResult<Addr> {
        let admin = self.admin.clone();
        self.app.instantiate_contract(self.bridge_code, admin, msg, &[], "bridge2", None)
    }

    /// A second cw20, to send from the wrong token.
    pub fn other_token(&mut self) -> Addr {
        let (admin, alice, bob) = (self.admin.clone(), self.alice.clone(), self.bob.clone());
        instantiate_token(&mut self.app, self.token_code, &admin, &[&alice, &bob])
    }

    pub fn withdraw_via(&mut self, token: &Addr, from: &Addr, amount: u128, recipient: &str) -> AnyResult<AppResponse> {
        let msg = arena_token::msg::ExecuteMsg::Send {
            contract: self.bridge.to_string(),
            amount: Uint128::new(amount),
            msg: to_json_binary(&ReceiveMsg::Withdraw { evm_recipient: recipient.to_string() }).unwrap(),
        };
        self.app.execute_contract(from.clone(), token.clone(), &msg, &[])
    }

    pub fn withdraw(&mut self, from: &Addr, amount: u128, recipient: &str) -> AnyResult<AppResponse> {
        let token = self.token.clone();
        self.withdraw_via(&token, from, amount, recipient)
    }

    /// The receive hook as the token would call it, for what cw20-base never sends (0 tokens).
    pub fn receive_from_token(&mut self, wrapper: Cw20ReceiveMsg) -> AnyResult<AppResponse> {
        let token = self.token.clone();
        self.execute(&token, ExecuteMsg::Receive(wrapper))
    }

    pub fn execute(&mut self, sender: &Addr, msg: ExecuteMsg) -> AnyResult<AppResponse> {
        let bridge = self.bridge.clone();
        self.app.execute_contract(sender.clone(), bridge, &msg, &[])
    }

    pub fn seal(&mut self) -> AnyResult<AppResponse> {
        let anyone = self.app.api().addr_make("cranker");
        self.execute(&anyone, ExecuteMsg::SealBatch {})
    }

    pub fn attest(&mut self, batch_id: u64, signature: String) -> AnyResult<AppResponse> {
        let anyone = self.app.api().addr_make("cranker");
        self.execute(&anyone, ExecuteMsg::Attest { batch_id, signature })
    }

    /// Attester `i` signs batch `batch_id` as stored, under the bridge's current domain.
    pub fn sign(&self, i: usize, batch_id: u64) -> String {
        self.attesters[i].sign_digest(&self.digest(batch_id))
    }

    /// The digest of a stored batch, computed here from arena-types (not read from the bridge).
    pub fn digest(&self, batch_id: u64) -> [u8; 32] {
        let config = self.config();
        let batch = self.batch(batch_id);
        let domain = arena_types::settlement::SettlementDomain {
            chain_id: config.evm_chain_id,
            verifying_contract: EvmAddress::parse(config.evm_settlement.as_deref().unwrap()).unwrap(),
        };
        batch_digest(&domain, &batch.header(self.source()).unwrap())
    }

    /// The source the suite's bridge signs as: the app's chain id and the bridge's address.
    pub fn source(&self) -> BatchSource {
        BatchSource::new(&self.app.block_info().chain_id, self.bridge.as_str())
    }

    pub fn attest_by(&mut self, i: usize, batch_id: u64) -> AnyResult<AppResponse> {
        let signature = self.sign(i, batch_id);
        self.attest(batch_id, signature)
    }

    pub fn confirm(&mut self, sender: &Addr, batch_id: u64, hash: &str) -> AnyResult<AppResponse> {
        self.execute(sender, ExecuteMsg::Confirm { batch_id, evm_tx_hash: hash.to_string() })
    }

    /// The operators of attesters 0 and 1 (the default threshold) confirm `hash`.
    pub fn confirm_by_threshold(&mut self, batch_id: u64, hash: &str) {
        for i in 0..2 {
            let operator = self.attesters[i].operator.clone();
            self.confirm(&operator, batch_id, hash).unwrap();
        }
    }

    /// Queues 3 withdrawals (alice 100, bob 250, alice 7) and seals them as batch 1.
    pub fn sealed_batch(&mut self) -> u64 {
        let (alice, bob) = (self.alice.clone(), self.bob.clone());
        self.withdraw(&alice, 100, RECIPIENT).unwrap();
        self.withdraw(&bob, 250, RECIPIENT_2).unwrap();
        self.withdraw(&alice, 7, RECIPIENT).unwrap();
        self.seal().unwrap();
        1
    }

    /// [`Self::sealed_batch`], attested by attesters 0 and 1.
    pub fn attested_batch(&mut self) -> u64 {
        let id = self.sealed_batch();
        self.attest_by(0, id).unwrap();
        self.attest_by(1, id).unwrap();
        id
    }

    pub fn advance_blocks(&mut self, n: u64) {
        self.app.update_block(|b| {
            b.height += n;
            b.time = b.time.plus_seconds(5 * n);
        });
    }

    pub fn height(&self) -> u64 {
        self.app.block_info().height
    }

    fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app.wrap().query_wasm_smart(self.bridge.clone(), msg).unwrap()
    }

    pub fn query_err(&self, msg: &QueryMsg) -> String {
        self.app.wrap().query_wasm_smart::<cosmwasm_std::Empty>(self.bridge.clone(), msg).unwrap_err().to_string()
    }

    pub fn config(&self) -> ConfigResponse {
        self.query(&QueryMsg::Config {})
    }

    pub fn outbox(&self) -> OutboxResponse {
        self.query(&QueryMsg::Outbox {})
    }

    pub fn pending(&self, start_after: Option<u64>, limit: Option<u32>) -> WithdrawalsResponse {
        self.query(&QueryMsg::PendingWithdrawals { start_after, limit })
    }

    pub fn batch(&self, batch_id: u64) -> BatchResponse {
        self.query(&QueryMsg::Batch { batch_id })
    }

    pub fn batches(
        &self,
        status: Option<BatchStatus>,
        start_after: Option<u64>,
        limit: Option<u32>,
    ) -> BatchesResponse {
        self.query(&QueryMsg::Batches { status, start_after, limit })
    }

    pub fn leaves(&self, batch_id: u64, start_after: Option<u32>, limit: Option<u32>) -> LeavesResponse {
        self.query(&QueryMsg::Leaves { batch_id, start_after, limit })
    }

    pub fn attestations(&self, batch_id: u64, start_after: Option<String>, limit: Option<u32>) -> AttestationsResponse {
        self.query(&QueryMsg::Attestations { batch_id, start_after, limit })
    }

    pub fn proof(&self, batch_id: u64, index: u32) -> ProofResponse {
        self.query(&QueryMsg::Proof { batch_id, index })
    }

    pub fn token_balance(&self, who: &Addr) -> u128 {
        let r: BalanceResponse = self
            .app
            .wrap()
            .query_wasm_smart(self.token.clone(), &cw20::Cw20QueryMsg::Balance { address: who.to_string() })
            .unwrap();
        r.balance.u128()
    }

    /// Tokens held by the bridge == queued + sealed, and both counters match the records.
    pub fn assert_conservation(&self) {
        let outbox = self.outbox();
        let held = self.token_balance(&self.bridge);
        assert_eq!(held, (outbox.queued_amount + outbox.sealed_amount).u128(), "bridge balance vs queued + sealed");
        let mut queued = Uint128::zero();
        let mut start_after = None;
        loop {
            let page = self.pending(start_after, Some(100)).withdrawals;
            let Some(last) = page.last() else { break };
            start_after = Some(last.id);
            queued += page.iter().map(|w| w.amount).sum::<Uint128>();
        }
        assert_eq!(queued, outbox.queued_amount, "queued records vs counter");
        let mut sealed = Uint128::zero();
        let mut start_after = None;
        loop {
            let page = self.batches(None, start_after, Some(100)).batches;
            let Some(last) = page.last() else { break };
            start_after = Some(last.batch_id);
            sealed += page.iter().map(|b| b.total).sum::<Uint128>();
        }
        assert_eq!(sealed, outbox.sealed_amount, "batch totals vs counter");
    }
}

pub fn decode_hex(text: &str) -> Vec<u8> {
    let digits = text.trim_start_matches("0x");
    (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
}

fn instantiate_token(app: &mut App, code: u64, minter: &Addr, holders: &[&Addr]) -> Addr {
    let msg = arena_token::msg::InstantiateMsg {
        name: "Arena Token".to_string(),
        symbol: "ARENA".to_string(),
        decimals: 6,
        initial_balances: holders
            .iter()
            .map(|h| Cw20Coin { address: h.to_string(), amount: Uint128::new(START_BALANCE) })
            .collect(),
        mint: Some(cw20::MinterResponse { minter: minter.to_string(), cap: None }),
        marketing: None,
    };
    app.instantiate_contract(code, minter.clone(), &msg, &[], "arena-token", None).unwrap()
}
