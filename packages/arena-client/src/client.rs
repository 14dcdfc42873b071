//! The gRPC client: queries, and transactions from simulation to inclusion.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arena_retry::{Backoff, Classify};

use cosmrs::cosmwasm::{MsgExecuteContract, MsgInstantiateContract, MsgStoreCode};
use cosmrs::proto::cosmos::auth::v1beta1::{query_client::QueryClient as AuthQuery, QueryAccountInfoRequest};
use cosmrs::proto::cosmos::bank::v1beta1::{query_client::QueryClient as BankQuery, QueryBalanceRequest};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmrs::proto::cosmos::base::tendermint::v1beta1::{
    service_client::ServiceClient as NodeService, GetLatestBlockRequest,
};
use cosmrs::proto::cosmos::tx::v1beta1::{
    service_client::ServiceClient as TxService, BroadcastMode, BroadcastTxRequest, GetTxRequest, SimulateRequest,
};
use cosmrs::proto::cosmwasm::wasm::v1::{
    query_client::QueryClient as WasmQuery, QueryCodeRequest, QueryContractInfoRequest, QuerySmartContractStateRequest,
};
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use crate::config::ChainConfig;
use crate::endpoints::EndpointSet;
use crate::error::{sdk_code, ClientError};
use crate::keys::Signer;
use crate::tx::TxOutcome;

/// How often a broadcast transaction is looked up while waiting for its block (blocks are ~0.2 s on the devnet).
const INCLUSION_POLL: Duration = Duration::from_millis(100);
/// A stale sequence is refetched and the transaction signed again at most this many times.
const SEQUENCE_RETRIES: usize = 3;
/// With several endpoints, the current one's height is asked at most this often (before a
/// request), to notice a node that stopped advancing.
const HEALTH_CHECK_EVERY: Duration = Duration::from_secs(1);
/// A health probe that takes longer than this counts as a connection failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// With several endpoints, a request without an answer for this long counts as a connection
/// failure. Queries and CheckTx answer in milliseconds on a healthy node; a large code store's
/// simulation takes about a second on the devnet.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to one chain, through one or several of its nodes' gRPC endpoints
/// ([`ChainConfig::endpoints`]). Cloning is cheap and shares the channels, which reconnect by
/// themselves after a node restarts.
///
/// With several endpoints the client talks to one at a time and fails over (the rules are in
/// `endpoints.rs`): at once to the next endpoint when a request fails at the connection level,
/// and to a node that is ahead when the current one's height has not advanced for
/// [`ChainConfig::stale_after`]. Queries are simply sent again to the new endpoint. A signed
/// transaction is never signed again with a new sequence across a switch: the client first looks
/// its hash up on the new node, and broadcasts the same bytes there only if it is not on chain
/// yet (a node that has it in its mempool answers that it knows it; one that has it in a block
/// makes the lookup find it). A [`Client::send`] whose outcome stays unknown (its inclusion timed
/// out, every node was down) leaves the transaction pending: the next `send` of the same messages
/// by the same signer waits for that transaction rather than signing another.
#[derive(Clone, Debug)]
pub struct Client {
    config: ChainConfig,
    nodes: Arc<Nodes>,
}

/// The endpoints' channels and what is known of them.
#[derive(Debug)]
struct Nodes {
    channels: Vec<Channel>,
    set: Mutex<EndpointSet>,
    /// When the last health check started (None: never).
    checked_at: Mutex<Option<Instant>>,
    /// Signed transactions whose outcome a `send` could not learn, by signer address.
    pending: Mutex<HashMap<String, Vec<PendingTx>>>,
}

/// A transaction that may be in a mempool or a block.
#[derive(Clone, Debug)]
struct PendingTx {
    /// sha256 of the messages, to recognise the same request sent again.
    msgs_digest: [u8; 32],
    txhash: String,
    tx_bytes: Vec<u8>,
}

/// One endpoint, as a request uses it.
#[derive(Clone, Debug)]
struct Node {
    index: usize,
    url: String,
    channel: Channel,
}

impl Node {
    fn status_error(&self, status: tonic::Status) -> ClientError {
        ClientError::from_status(&self.url, status)
    }
}

impl Nodes {
    fn set(&self) -> std::sync::MutexGuard<'_, EndpointSet> {
        self.set.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn node(&self, index: usize) -> Node {
        Node { index, url: self.set().url(index).to_string(), channel: self.channels[index].clone() }
    }

    /// Endpoint `index` failed at the connection level: marked down, and left if it is current.
    fn failed(&self, index: usize) {
        let now = Instant::now();
        let mut set = self.set();
        set.observe_failure(index, now);
        if set.current() == index && set.len() > 1 {
            set.fail_over(now);
        }
    }

    fn answered(&self, index: usize) {
        self.set().observe_answer(index);
    }

    /// Whether every endpoint is marked down.
    fn all_down(&self) -> bool {
        let set = self.set();
        (0..set.len()).all(|i| set.is_down(i))
    }
}

impl Client {
    /// Connects to the chain: to `grpc_url`, or with several endpoints to the first of them that
    /// answers (the others are connected to when first used). Fails at once if none answers.
    pub async fn connect(config: ChainConfig) -> Result<Self, ClientError> {
        let urls = config.endpoints();
        let mut channels = Vec::with_capacity(urls.len());
        let mut first = None;
        let mut first_error = None;
        for (index, url) in urls.iter().enumerate() {
            let endpoint = Channel::from_shared(url.clone())
                .map_err(|e| ClientError::Config(format!("gRPC url {url:?}: {e}")))?
                .connect_timeout(Duration::from_secs(5));
            if first.is_some() {
                channels.push(endpoint.connect_lazy());
                continue;
            }
            match endpoint.connect().await {
                Ok(channel) => {
                    first = Some(index);
                    channels.push(channel);
                }
                Err(e) => {
                    first_error
                        .get_or_insert(ClientError::NodeUnreachable { url: url.clone(), reason: source_chain(&e) });
                    channels.push(endpoint.connect_lazy());
                }
            }
        }
        let Some(first) = first else {
            return Err(first_error.expect("at least one endpoint"));
        };
        let mut set = EndpointSet::new(urls, config.stale_after);
        let now = Instant::now();
        (0..first).for_each(|i| set.observe_failure(i, now));
        set.start_at(first);
        let nodes =
            Nodes { channels, set: Mutex::new(set), checked_at: Mutex::new(None), pending: Mutex::new(HashMap::new()) };
        Ok(Client { config, nodes: Arc::new(nodes) })
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    /// The gRPC endpoint requests go to now.
    pub fn current_endpoint(&self) -> String {
        let set = self.nodes.set();
        set.url(set.current()).to_string()
    }

    /// The endpoint to use now, after a health check when one is due (several endpoints only).
    async fn node(&self) -> Node {
        if self.nodes.channels.len() > 1 && self.health_check_due() {
            self.check_health().await;
        }
        let current = self.nodes.set().current();
        self.nodes.node(current)
    }

    fn health_check_due(&self) -> bool {
        let now = Instant::now();
        let mut checked = self.nodes.checked_at.lock().unwrap_or_else(|p| p.into_inner());
        if checked.is_some_and(|at| now.duration_since(at) < HEALTH_CHECK_EVERY) {
            return false;
        }
        *checked = Some(now);
        true
    }

    /// Asks the current endpoint its height; if it looks stale or is down, asks the others theirs;
    /// moves if [`EndpointSet::should_leave`] says so.
    async fn check_health(&self) {
        let current = self.nodes.set().current();
        self.probe_height(current).await;
        let (stale, down, n) = {
            let set = self.nodes.set();
            (set.current_looks_stale(Instant::now()), set.is_down(current), set.len())
        };
        if stale || down {
            for i in (0..n).filter(|&i| i != current) {
                self.probe_height(i).await;
            }
        }
        let mut set = self.nodes.set();
        let now = Instant::now();
        if set.should_leave(now) {
            set.fail_over(now);
        }
    }

    async fn probe_height(&self, index: usize) {
        let node = self.nodes.node(index);
        let answer = tokio::time::timeout(PROBE_TIMEOUT, height_of(&node)).await;
        let now = Instant::now();
        let mut set = self.nodes.set();
        match answer {
            Ok(Ok(height)) => set.observe_height(index, height, now),
            Ok(Err(e)) if !e.is_node_failure() => set.observe_answer(index),
            Ok(Err(_)) | Err(_) => set.observe_failure(index, now),
        }
    }

    /// With several endpoints, a request that gets no answer within [`REQUEST_TIMEOUT`] counts
    /// as a connection failure (a frozen node keeps its sockets open and never answers). With one,
    /// requests wait as long as the node takes, as they always did.
    async fn bounded<T>(
        &self,
        node: &Node,
        request: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        if self.nodes.channels.len() == 1 {
            return request.await;
        }
        tokio::time::timeout(REQUEST_TIMEOUT, request).await.unwrap_or_else(|_| {
            Err(ClientError::NodeUnreachable {
                url: node.url.clone(),
                reason: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            })
        })
    }

    /// Runs a request on the current endpoint; when it fails at the connection level, on the
    /// next one, until each endpoint has been tried once. Other failures are returned as they are.
    async fn call<T, F, Fut>(&self, op: F) -> Result<T, ClientError>
    where
        F: Fn(Node) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let n = self.nodes.channels.len();
        let mut tried = 0;
        loop {
            let node = self.node().await;
            let index = node.index;
            match self.bounded(&node, op(node.clone())).await {
                Err(e) if e.is_node_failure() => {
                    self.nodes.failed(index);
                    tried += 1;
                    if tried >= n {
                        return Err(e);
                    }
                    tracing::debug!(error = %e, "request failed at the connection level; trying another node");
                }
                Err(e) => {
                    self.nodes.answered(index);
                    return Err(e);
                }
                Ok(value) => {
                    self.nodes.answered(index);
                    return Ok(value);
                }
            }
        }
    }

    /// Parses a bech32 address with this chain's prefix.
    pub fn account_id(&self, address: &str) -> Result<AccountId, ClientError> {
        let id: AccountId = address.parse().map_err(|e| ClientError::Config(format!("address {address:?}: {e}")))?;
        if id.prefix() != self.config.bech32_prefix {
            return Err(ClientError::Config(format!(
                "address {address} has prefix {:?}, this chain uses {:?}",
                id.prefix(),
                self.config.bech32_prefix
            )));
        }
        Ok(id)
    }

    /// Height of the newest block.
    pub async fn latest_height(&self) -> Result<u64, ClientError> {
        self.call(|node| async move { height_of(&node).await }).await
    }

    /// Account number and sequence. `Query/AccountInfo` is used rather than `Query/Account`
    /// because chains like Injective wrap the base account in their own type there.
    pub async fn account_numbers(&self, address: &AccountId) -> Result<(u64, u64), ClientError> {
        self.call(|node| async move {
            let response = AuthQuery::new(node.channel.clone())
                .account_info(QueryAccountInfoRequest { address: address.to_string() })
                .await;
            match response {
                Ok(r) => {
                    let info = r
                        .into_inner()
                        .info
                        .ok_or_else(|| ClientError::AccountNotFound { address: address.to_string() })?;
                    Ok((info.account_number, info.sequence))
                }
                Err(s) if s.code() == tonic::Code::NotFound => {
                    Err(ClientError::AccountNotFound { address: address.to_string() })
                }
                Err(s) => Err(node.status_error(s)),
            }
        })
        .await
    }

    /// Bank balance of `address` in `denom`.
    pub async fn balance(&self, address: &str, denom: &str) -> Result<u128, ClientError> {
        let coin = self
            .call(|node| async move {
                BankQuery::new(node.channel.clone())
                    .balance(QueryBalanceRequest { address: address.to_string(), denom: denom.to_string() })
                    .await
                    .map_err(|s| node.status_error(s))
            })
            .await?
            .into_inner()
            .balance;
        match coin {
            None => Ok(0),
            Some(c) => c.amount.parse().map_err(|e| ClientError::Decode(format!("balance {:?}: {e}", c.amount))),
        }
    }

    /// A smart query: `msg` is serialized as the contract's JSON query, the answer parsed as `R`.
    pub async fn query_contract<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &Q,
    ) -> Result<R, ClientError> {
        let query_data = serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("query message: {e}")))?;
        let query_data = &query_data;
        let data = self
            .call(|node| async move {
                WasmQuery::new(node.channel.clone())
                    .smart_contract_state(QuerySmartContractStateRequest {
                        address: contract.to_string(),
                        query_data: query_data.clone(),
                    })
                    .await
                    .map_err(|s| node.status_error(s))
            })
            .await?
            .into_inner()
            .data;
        serde_json::from_slice(&data).map_err(|e| {
            ClientError::Decode(format!(
                "answer of contract {contract} as {}: {e}: {}",
                std::any::type_name::<R>(),
                String::from_utf8_lossy(&data)
            ))
        })
    }

    /// Hex sha256 of the wasm stored under `code_id`, or None if there is no such code.
    pub async fn code_checksum(&self, code_id: u64) -> Result<Option<String>, ClientError> {
        self.call(|node| async move {
            match WasmQuery::new(node.channel.clone()).code(QueryCodeRequest { code_id }).await {
                Ok(r) => Ok(r.into_inner().code_info.map(|info| hex::encode(info.data_hash))),
                Err(s) if s.code() == tonic::Code::NotFound || s.message().contains("not found") => Ok(None),
                Err(s) => Err(node.status_error(s)),
            }
        })
        .await
    }

    /// The code id a contract runs, or None if there is no contract at `address`.
    pub async fn contract_code_id(&self, address: &str) -> Result<Option<u64>, ClientError> {
        self.call(|node| async move {
            match WasmQuery::new(node.channel.clone())
                .contract_info(QueryContractInfoRequest { address: address.to_string() })
                .await
            {
                Ok(r) => Ok(r.into_inner().contract_info.map(|info| info.code_id)),
                Err(s) if s.code() == tonic::Code::NotFound || s.message().contains("not found") => Ok(None),
                Err(s) => Err(node.status_error(s)),
            }
        })
        .await
    }

    /// Uploads wasm code; returns its code id.
    pub async fn store_code(&self, signer: &Signer, wasm: Vec<u8>) -> Result<(u64, TxOutcome), ClientError> {
        let msg = MsgStoreCode { sender: signer.address().clone(), wasm_byte_code: wasm, instantiate_permission: None };
        let outcome = self.send(signer, vec![to_any(msg)?]).await?;
        let code_id = outcome
            .attribute("store_code", "code_id")
            .ok_or_else(|| ClientError::Decode("store_code event without code_id".into()))?
            .parse()
            .map_err(|e| ClientError::Decode(format!("code_id: {e}")))?;
        Ok((code_id, outcome))
    }

    /// Instantiates `code_id` with `msg`; returns the new contract's address.
    pub async fn instantiate<M: Serialize>(
        &self,
        signer: &Signer,
        code_id: u64,
        msg: &M,
        label: &str,
        admin: Option<&AccountId>,
    ) -> Result<(String, TxOutcome), ClientError> {
        let msg = MsgInstantiateContract {
            sender: signer.address().clone(),
            admin: admin.cloned(),
            code_id,
            label: Some(label.to_string()),
            msg: serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("instantiate message: {e}")))?,
            funds: vec![],
        };
        let outcome = self.send(signer, vec![to_any(msg)?]).await?;
        let address = outcome
            .attribute("instantiate", "_contract_address")
            .ok_or_else(|| ClientError::Decode("instantiate event without _contract_address".into()))?
            .to_string();
        Ok((address, outcome))
    }

    /// Executes `msg` on `contract`, with optional native `funds`.
    pub async fn execute<M: Serialize>(
        &self,
        signer: &Signer,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<TxOutcome, ClientError> {
        self.send(signer, vec![self.execute_msg(signer, contract, msg, funds)?]).await
    }

    /// Builds (without sending) an execute message, so several can share one transaction.
    pub fn execute_msg<M: Serialize>(
        &self,
        signer: &Signer,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<Any, ClientError> {
        to_any(MsgExecuteContract {
            sender: signer.address().clone(),
            contract: self.account_id(contract)?,
            msg: serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("execute message: {e}")))?,
            funds,
        })
    }

    /// Simulates, prices, signs and broadcasts `msgs` in one transaction, then waits until it is in
    /// a block. A stale sequence (another transaction of the same account got there first) is
    /// signed again with the sequence the node said it expects: the committed one, which a query
    /// answers, is still stale while the other transaction waits in the mempool. A transaction of
    /// this signer with the same messages whose outcome an earlier `send` could not learn is waited
    /// for (and broadcast again) instead of signing a new one.
    pub async fn send(&self, signer: &Signer, msgs: Vec<Any>) -> Result<TxOutcome, ClientError> {
        let digest = msgs_digest(&msgs);
        if let Some(pending) = self.take_pending(signer, &digest) {
            tracing::info!(txhash = %pending.txhash, "a transaction with these messages is pending: waiting for it");
            match self.deliver(signer, &pending, true).await {
                Err(ClientError::TxLost { .. }) => {}
                Err(e) if e.is_transient() => {
                    self.put_pending(signer, pending);
                    return Err(e);
                }
                other => return other,
            }
        }
        let mut attempt = 0;
        let mut expected = None;
        loop {
            match self.send_once(signer, &msgs, None, expected).await {
                Err(e) if e.is_sequence_mismatch() && attempt < SEQUENCE_RETRIES => {
                    attempt += 1;
                    expected = e.expected_sequence();
                    tracing::debug!(%e, attempt, ?expected, "sequence mismatch, signing again");
                }
                Err(e @ ClientError::TxLost { .. }) if attempt < SEQUENCE_RETRIES => {
                    attempt += 1;
                    expected = None;
                    tracing::debug!(%e, attempt, "signing again");
                }
                other => return other,
            }
        }
    }

    /// Like [`Client::send`] but with a fixed gas limit and fee, skipping simulation. For tests of
    /// fee handling and for callers that price transactions themselves.
    pub async fn send_with_fee(
        &self,
        signer: &Signer,
        msgs: Vec<Any>,
        gas_limit: u64,
        fee_amount: u128,
    ) -> Result<TxOutcome, ClientError> {
        self.send_once(signer, &msgs, Some((gas_limit, fee_amount)), None).await
    }

    async fn send_once(
        &self,
        signer: &Signer,
        msgs: &[Any],
        fixed_fee: Option<(u64, u128)>,
        expected_sequence: Option<u64>,
    ) -> Result<TxOutcome, ClientError> {
        let (account_number, committed) = self.account_numbers(signer.address()).await?;
        let sequence = expected_sequence.map_or(committed, |expected| expected.max(committed));
        let body = Body::new(msgs.to_vec(), "", 0u32);
        let (gas_limit, fee_amount) = match fixed_fee {
            Some(fee) => fee,
            None => {
                let simulated = self.simulate(signer, &body, account_number, sequence).await?;
                let gas_limit = (simulated as f64 * self.config.gas_adjustment).ceil() as u64;
                (gas_limit, self.config.gas_price.fee_for(gas_limit))
            }
        };
        let tx_bytes = self.sign(signer, &body, account_number, sequence, gas_limit, fee_amount)?;
        let tx = PendingTx { msgs_digest: msgs_digest(msgs), txhash: tx_hash(&tx_bytes), tx_bytes };
        match self.deliver(signer, &tx, false).await {
            // The node is away or the block late: the transaction may still land, so the next
            // `send` of these messages waits for it instead of signing another.
            Err(e) if e.is_transient() && !e.is_sequence_mismatch() && !matches!(e, ClientError::TxLost { .. }) => {
                self.put_pending(signer, tx);
                Err(e)
            }
            other => other,
        }
    }

    /// Broadcasts a signed transaction and waits for its block, across fail-overs: after a switch
    /// (or a broadcast whose answer was lost) the hash is looked up on the new node first, and the
    /// same bytes are broadcast there only if they are not on chain. Once the transaction may have
    /// reached a node, a stale-sequence answer means it (or another of the account's) is in a
    /// block or a mempool: the hash is awaited, never signed again. A transaction whose sequence
    /// the chain has passed without it is [lost](ClientError::TxLost) (only for one resumed from
    /// an earlier `send`).
    async fn deliver(&self, signer: &Signer, tx: &PendingTx, mut maybe_sent: bool) -> Result<TxOutcome, ClientError> {
        let started = Instant::now();
        let mut broadcast_on: Option<usize> = None;
        let mut all_down = Backoff::REQUEST.delays();
        let mut passed_sequence_seen: Option<Instant> = None;
        loop {
            let node = self.node().await;
            if broadcast_on != Some(node.index) {
                if maybe_sent {
                    match self.bounded(&node, lookup_tx(&node, &tx.txhash)).await {
                        Ok(Some(response)) => return included(&response, signer),
                        Ok(None) => {}
                        Err(e) if e.is_node_failure() => {
                            self.node_failed(&node, &e, &mut all_down).await?;
                            broadcast_on = None;
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                match self.bounded(&node, broadcast(&node, &tx.tx_bytes, signer)).await {
                    Ok(()) => {}
                    Err(e) if e.is_node_failure() => {
                        // The request may have reached the node before the connection went.
                        maybe_sent = true;
                        self.node_failed(&node, &e, &mut all_down).await?;
                        continue;
                    }
                    Err(e) if e.is_tx_already_known() => {}
                    Err(e) if maybe_sent && e.is_sequence_mismatch() => {
                        // Ours (or another of the account's) is in a block or a mempool. Ours
                        // is lost only if the chain passed its sequence and no node has it.
                        passed_sequence_seen.get_or_insert_with(Instant::now);
                    }
                    Err(e) => return Err(e),
                }
                maybe_sent = true;
                broadcast_on = Some(node.index);
                all_down = Backoff::REQUEST.delays();
            }
            match self.bounded(&node, lookup_tx(&node, &tx.txhash)).await {
                Ok(Some(response)) => return included(&response, signer),
                Ok(None) => self.nodes.answered(node.index),
                Err(e) if e.is_node_failure() => {
                    // A node that restarted lost its mempool: look up, then broadcast again.
                    self.node_failed(&node, &e, &mut all_down).await?;
                    broadcast_on = None;
                    continue;
                }
                Err(e) => return Err(e),
            }
            // The transaction index trails the commit a little: give it a few blocks.
            if passed_sequence_seen.is_some_and(|at| at.elapsed() > Duration::from_secs(3)) {
                return Err(ClientError::TxLost { txhash: tx.txhash.clone() });
            }
            if started.elapsed() > self.config.inclusion_timeout {
                return Err(ClientError::InclusionTimeout {
                    txhash: tx.txhash.clone(),
                    secs: self.config.inclusion_timeout.as_secs(),
                });
            }
            tokio::time::sleep(INCLUSION_POLL).await;
        }
    }

    /// A request to `node` failed at the connection level: it is marked down (and left); when
    /// every endpoint is down, this waits the next [`Backoff::REQUEST`] delay, and fails with the
    /// error once those run out.
    async fn node_failed(
        &self,
        node: &Node,
        error: &ClientError,
        all_down: &mut arena_retry::Delays,
    ) -> Result<(), ClientError> {
        self.nodes.failed(node.index);
        if self.nodes.all_down() || self.nodes.channels.len() == 1 {
            match all_down.next() {
                Some(delay) => {
                    tracing::warn!(%error, ?delay, "no chain node answers; waiting");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(ClientError::NodeUnreachable { url: node.url.clone(), reason: error.to_string() }),
            }
        }
        Ok(())
    }

    fn take_pending(&self, signer: &Signer, digest: &[u8; 32]) -> Option<PendingTx> {
        let mut pending = self.nodes.pending.lock().unwrap_or_else(|p| p.into_inner());
        let list = pending.get_mut(&signer.address().to_string())?;
        let at = list.iter().position(|p| &p.msgs_digest == digest)?;
        Some(list.remove(at))
    }

    fn put_pending(&self, signer: &Signer, tx: PendingTx) {
        let mut pending = self.nodes.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.entry(signer.address().to_string()).or_default().push(tx);
    }

    async fn simulate(
        &self,
        signer: &Signer,
        body: &Body,
        account_number: u64,
        sequence: u64,
    ) -> Result<u64, ClientError> {
        // Simulation runs the transaction without checking signature or fee, but the tx must
        // still carry the signer's public key and sequence.
        let tx_bytes = &self.sign(signer, body, account_number, sequence, 0, 0)?;
        let response = self
            .call(|node| async move {
                #[allow(deprecated)]
                let request = SimulateRequest { tx: None, tx_bytes: tx_bytes.clone() };
                TxService::new(node.channel.clone()).simulate(request).await.map_err(|s| match s.code() {
                    tonic::Code::Unavailable => node.status_error(s),
                    _ => ClientError::Simulation(s.message().to_string()),
                })
            })
            .await?;
        response
            .into_inner()
            .gas_info
            .map(|g| g.gas_used)
            .ok_or_else(|| ClientError::Decode("simulation answered without gas_info".into()))
    }

    fn sign(
        &self,
        signer: &Signer,
        body: &Body,
        account_number: u64,
        sequence: u64,
        gas_limit: u64,
        fee_amount: u128,
    ) -> Result<Vec<u8>, ClientError> {
        let denom =
            self.config.gas_price.denom().parse().map_err(|e| ClientError::Config(format!("fee denom: {e}")))?;
        let fee = Fee::from_amount_and_gas(Coin { denom, amount: fee_amount }, gas_limit);
        let auth_info = SignerInfo::single_direct(Some(signer.public_key()), sequence).auth_info(fee);
        let sign_doc = SignDoc::new(
            body,
            &auth_info,
            &self.config.chain_id.parse().map_err(|e| ClientError::Config(format!("chain id: {e}")))?,
            account_number,
        )
        .map_err(|e| ClientError::Key(format!("sign doc: {e}")))?;
        let raw = sign_doc.sign(signer.signing_key()).map_err(|e| ClientError::Key(format!("signing: {e}")))?;
        raw.to_bytes().map_err(|e| ClientError::Key(format!("encoding: {e}")))
    }
}

/// The latest height `node` reports.
async fn height_of(node: &Node) -> Result<u64, ClientError> {
    let block = NodeService::new(node.channel.clone())
        .get_latest_block(GetLatestBlockRequest {})
        .await
        .map_err(|s| node.status_error(s))?
        .into_inner();
    let height = block
        .sdk_block
        .and_then(|b| b.header)
        .map(|h| h.height)
        .or_else(|| block.block.and_then(|b| b.header).map(|h| h.height));
    height.map(|h| h as u64).ok_or_else(|| ClientError::Decode("latest block has no header".into()))
}

/// Broadcasts signed bytes (sync mode: the node's CheckTx answer).
async fn broadcast(node: &Node, tx_bytes: &[u8], signer: &Signer) -> Result<(), ClientError> {
    let response = TxService::new(node.channel.clone())
        .broadcast_tx(BroadcastTxRequest { tx_bytes: tx_bytes.to_vec(), mode: BroadcastMode::Sync as i32 })
        .await
        .map_err(|s| match RejectedTx::parse(s.message()) {
            // Some chains (injectived) answer a CheckTx failure as a gRPC error, not a code.
            Some(rejected) => rejected.into_error(signer),
            None => node.status_error(s),
        })?
        .into_inner()
        .tx_response
        .ok_or_else(|| ClientError::Decode("broadcast answered without a tx_response".into()))?;
    check_code(&response, signer)
}

/// The transaction's result if it is in a block the node knows; None if not (yet).
async fn lookup_tx(node: &Node, txhash: &str) -> Result<Option<TxResponse>, ClientError> {
    match TxService::new(node.channel.clone()).get_tx(GetTxRequest { hash: txhash.to_string() }).await {
        Ok(r) => Ok(r.into_inner().tx_response),
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => Err(node.status_error(s)),
    }
}

/// The outcome of an included transaction, or its failure.
fn included(response: &TxResponse, signer: &Signer) -> Result<TxOutcome, ClientError> {
    check_code(response, signer)?;
    Ok(TxOutcome::from_response(response))
}

/// The hash CometBFT names a transaction by: upper-case hex of the sha256 of its bytes.
fn tx_hash(tx_bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(tx_bytes))
}

/// Identifies a request's messages (type and bytes of each), to recognise it sent again.
fn msgs_digest(msgs: &[Any]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for msg in msgs {
        for part in [msg.type_url.as_bytes(), &msg.value] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
    }
    hasher.finalize().into()
}

/// Turns a non-zero result code into the matching error.
fn check_code(r: &TxResponse, signer: &Signer) -> Result<(), ClientError> {
    if r.code == 0 {
        return Ok(());
    }
    let rejected = RejectedTx {
        txhash: (!r.txhash.is_empty()).then(|| r.txhash.clone()),
        code: r.code,
        codespace: r.codespace.clone(),
        raw_log: r.raw_log.clone(),
    };
    Err(rejected.into_error(signer))
}

/// A transaction the node refused or failed, however it told us.
#[derive(Debug, PartialEq)]
struct RejectedTx {
    txhash: Option<String>,
    code: u32,
    codespace: String,
    raw_log: String,
}

impl RejectedTx {
    /// Reads CometBFT's `tx HASH is invalid: code=13, data=, log='...', codespace='sdk'` text.
    fn parse(message: &str) -> Option<Self> {
        let between = |start: &str, end: &str| {
            let from = message.find(start)? + start.len();
            let len = message[from..].find(end)?;
            Some(message[from..from + len].to_string())
        };
        let code = between("code=", ",")?.parse().ok()?;
        let codespace = between("codespace='", "'").unwrap_or_default();
        let raw_log = between("log='", "', codespace").unwrap_or_else(|| message.to_string());
        let txhash = between("tx ", " is invalid");
        Some(RejectedTx { txhash, code, codespace, raw_log })
    }

    fn into_error(self, signer: &Signer) -> ClientError {
        let sdk = self.codespace == "sdk";
        match self.code {
            sdk_code::INSUFFICIENT_FEE if sdk => ClientError::InsufficientFee { raw_log: self.raw_log },
            sdk_code::INSUFFICIENT_FUNDS if sdk => {
                ClientError::InsufficientFunds { address: signer.address().to_string(), raw_log: self.raw_log }
            }
            _ => ClientError::TxFailed {
                txhash: self.txhash,
                code: self.code,
                codespace: self.codespace,
                raw_log: self.raw_log,
            },
        }
    }
}

fn to_any(msg: impl Msg) -> Result<Any, ClientError> {
    msg.to_any().map_err(|e| ClientError::Config(format!("encoding message: {e}")))
}

/// The innermost cause of a transport error is the one that says what went wrong ("Connection refused").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_tx_failure_in_a_grpc_error_is_understood() {
        let message = "broadcast error on transaction validation: tx 84D9 is invalid: code=13, data=, \
                       log='insufficient fees; got: 1inj required: 32000000000000inj: insufficient fee', codespace='sdk'";
        let rejected = RejectedTx::parse(message).unwrap();
        assert_eq!(
            rejected,
            RejectedTx {
                txhash: Some("84D9".into()),
                code: 13,
                codespace: "sdk".into(),
                raw_log: "insufficient fees; got: 1inj required: 32000000000000inj: insufficient fee".into()
            }
        );
    }

    #[test]
    fn other_grpc_errors_are_not_mistaken_for_rejections() {
        assert_eq!(RejectedTx::parse("transport error"), None);
    }
}
