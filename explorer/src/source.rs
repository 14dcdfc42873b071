//! Where the explorer's data comes from: the [`Source`] trait, and [`ChainSource`], the real one
//! (the chain over gRPC through arena-client, the relayers over their gRPC API).
//!
//! Pages never wait on a node that is down: the chain's head (height, block time, reachability)
//! and each relayer's `Status` are polled in the background once per block or second and read
//! from memory; only the contracts' smart queries (and, for a participant's withdrawals, one
//! search of the node's transaction index) happen while a page is built, and they fail fast with
//! [`SourceError::Unavailable`] while the head says the chain is unreachable.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arena_client::cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use arena_client::cosmrs::proto::cosmos::base::tendermint::v1beta1::{
    service_client::ServiceClient as NodeService, GetLatestBlockRequest,
};
use arena_client::cosmrs::proto::cosmos::tx::v1beta1::{
    service_client::ServiceClient as TxService, GetTxsEventRequest, OrderBy,
};
use arena_client::{Blocks, Client, ClientError, Event, Manifest};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use tonic::transport::{Channel, Endpoint};

use crate::relayer_proto::relayer_client::RelayerClient;
use crate::relayer_proto::StatusRequest;

/// A deployed contract the explorer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Contract {
    Market,
    Bridge,
    Token,
}

impl Contract {
    /// Its package name in the deployment manifest.
    pub fn package(self) -> &'static str {
        match self {
            Contract::Market => "arena-market",
            Contract::Bridge => "arena-bridge",
            Contract::Token => "arena-token",
        }
    }
}

/// Why a query gave no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The chain (or the contract) cannot be reached now: a 503 page, which updates itself once
    /// the chain is back.
    #[error("the chain is unreachable: {0}")]
    Unavailable(String),
    /// The contract answered that the thing does not exist: a 404 page.
    #[error("{0}")]
    NotFound(String),
    /// The contract refused the query, or answered something the explorer cannot read.
    #[error("the chain's answer: {0}")]
    Upstream(String),
}

impl SourceError {
    /// Classifies a client error: a missing task, round, submission or batch is `NotFound`
    /// (the contracts answer "does not exist" or "not found").
    pub fn from_client(err: ClientError) -> Self {
        match err {
            ClientError::NodeUnreachable { .. } => SourceError::Unavailable(err.to_string()),
            ClientError::Query(message) if message.contains("does not exist") || message.contains("not found") => {
                SourceError::NotFound(message)
            }
            other => SourceError::Upstream(other.to_string()),
        }
    }
}

/// The chain's newest block as the background follower last saw it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Head {
    /// 0 before the first answer.
    pub height: u64,
    /// Block time of `height`, Unix seconds.
    pub time: u64,
    /// Mean seconds per block over the last blocks seen; `None` until two heights were seen.
    pub block_seconds: Option<f64>,
    /// Whether the last attempt reached the node.
    pub reachable: bool,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// One relayer as its last `Status` call found it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelayerState {
    pub endpoint: String,
    /// The last answer, or why there was none.
    pub status: Result<RelayerStatus, String>,
    /// Unix seconds of the last answer; `None`: never answered.
    pub last_seen: Option<u64>,
}

/// What the explorer shows of a relayer's `Status` answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RelayerStatus {
    pub attester: String,
    pub operator: String,
    pub cosmos_height: u64,
    pub evm_chain_id: u64,
    pub evm_height: u64,
    pub pending: u64,
    pub attested: u64,
    pub posted: u64,
    pub confirmed: u64,
    pub last_pass_height: u64,
}

/// What the explorer knows of the deployment without asking anyone.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Deployment {
    pub chain_id: String,
    pub bech32_prefix: String,
    pub market: String,
    pub bridge: Option<String>,
    pub token: String,
    pub evm_chain_id: u64,
    /// The ArenaSettlement contract on the EVM side, when deployed.
    pub settlement: Option<String>,
    pub evm_rpc: String,
}

/// A transaction the node's transaction index found: where it is and the events it left.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoundTx {
    pub hash: String,
    pub height: u64,
    /// Its block's time as the node writes it (RFC 3339).
    pub time: String,
    /// Every event of the transaction, in emission order (a contract's are `wasm` events whose
    /// `_contract_address` attribute names it).
    pub events: Vec<Event>,
}

impl FoundTx {
    fn from_response(r: TxResponse) -> Self {
        FoundTx {
            hash: r.txhash,
            height: u64::try_from(r.height).unwrap_or_default(),
            time: r.timestamp,
            events: r
                .events
                .into_iter()
                .map(|e| Event {
                    kind: e.r#type,
                    attributes: e.attributes.into_iter().map(|a| (a.key, a.value)).collect(),
                })
                .collect(),
        }
    }
}

/// One page of a transaction search, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TxPage {
    /// Transactions matching the query, over every page.
    pub total: u64,
    pub txs: Vec<FoundTx>,
}

/// Everything the explorer reads. Implemented by [`ChainSource`] and, in tests, by fixed answers.
pub trait Source: Send + Sync + 'static {
    fn deployment(&self) -> &Deployment;
    /// The newest block, from memory.
    fn head(&self) -> Head;
    /// Each configured relayer's last status, from memory.
    fn relayers(&self) -> Vec<RelayerState>;
    /// One smart query of `contract` (`msg` is the contract's JSON query message).
    fn smart(&self, contract: Contract, msg: Value) -> impl Future<Output = Result<Value, SourceError>> + Send;
    /// The successful transactions matching `query`, CometBFT's event query language
    /// (`wasm.action='withdraw_to_evm' AND wasm.address='inj1…'`), newest first: page `page`
    /// (from 1) of `per_page`. The node's transaction index answers (CometBFT's `tx_search`), as
    /// far back as it keeps; a node that indexes nothing answers an error.
    fn search_txs(
        &self,
        query: String,
        page: u32,
        per_page: u32,
    ) -> impl Future<Output = Result<TxPage, SourceError>> + Send;
}

/// How often the head is read when no new-block notice arrives, and the relayers polled.
const HEAD_FALLBACK: Duration = Duration::from_secs(1);
const RELAYER_POLL: Duration = Duration::from_secs(2);
/// A query or status call that takes longer is treated as unreachable.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// Blocks over which the block time is averaged.
const BLOCK_TIME_WINDOW: usize = 20;

/// The real source: the deployment's chain and the relayers at `relayer_endpoints`.
pub struct ChainSource {
    deployment: Deployment,
    config: arena_client::ChainConfig,
    client: tokio::sync::Mutex<Option<Client>>,
    /// The node's gRPC endpoint (lazily connected): the head follower and transaction searches.
    channel: Channel,
    head: watch::Receiver<Head>,
    relayers: Arc<RwLock<Vec<RelayerState>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for ChainSource {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl ChainSource {
    /// Starts following the chain of `manifest` and polling the relayers. Nothing needs to be
    /// reachable yet: pages say what is not. Must be called inside a tokio runtime.
    pub fn start(manifest: &Manifest, relayer_endpoints: &[String]) -> Result<Self, String> {
        let contract = |name: &str| manifest.contracts.get(name).map(|c| c.address.clone());
        let deployment = Deployment {
            chain_id: manifest.chain.chain_id.clone(),
            bech32_prefix: manifest.chain.bech32_prefix.clone(),
            market: contract("arena-market").ok_or("the manifest has no arena-market contract")?,
            bridge: contract("arena-bridge"),
            token: contract("arena-token").ok_or("the manifest has no arena-token contract")?,
            evm_chain_id: manifest.evm.chain_id,
            settlement: manifest.evm.contracts.get("ArenaSettlement").cloned(),
            evm_rpc: manifest.endpoints.evm_rpc.clone(),
        };
        // Every node of the chain the manifest lists: smart queries go through `Client`, which
        // fails over on its own; the head and the transaction searches use a channel balanced
        // over the same nodes, which drops a node whose connection fails.
        let endpoints = manifest
            .chain
            .endpoints()
            .into_iter()
            .map(|url| {
                Endpoint::from_shared(url.clone())
                    .map(|e| e.connect_timeout(CALL_TIMEOUT).timeout(CALL_TIMEOUT))
                    .map_err(|e| format!("gRPC url {url:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channel = Channel::balance_list(endpoints.into_iter());
        let (head_tx, head) = watch::channel(Head::default());
        let mut tasks = vec![tokio::spawn(follow_head(channel.clone(), manifest.endpoints.rpc_urls(), head_tx))];
        let relayers = Arc::new(RwLock::new(
            relayer_endpoints
                .iter()
                .map(|e| RelayerState { endpoint: e.clone(), status: Err("not asked yet".into()), last_seen: None })
                .collect(),
        ));
        for (i, endpoint) in relayer_endpoints.iter().enumerate() {
            tasks.push(tokio::spawn(poll_relayer(endpoint.clone(), i, relayers.clone())));
        }
        Ok(ChainSource {
            deployment,
            config: manifest.chain.clone(),
            client: tokio::sync::Mutex::new(None),
            channel,
            head,
            relayers,
            tasks,
        })
    }

    /// Waits until the follower has read the head once (reachable or not), at most `timeout`.
    pub async fn first_head(&self, timeout: Duration) -> Head {
        let mut head = self.head.clone();
        let _ = tokio::time::timeout(timeout, head.wait_for(|h| h.reachable || h.error.is_some())).await;
        self.head()
    }

    async fn client(&self) -> Result<Client, SourceError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let client = tokio::time::timeout(CALL_TIMEOUT, Client::connect(self.config.clone()))
            .await
            .map_err(|_| SourceError::Unavailable(format!("no answer from {} in time", self.config.grpc_url)))?
            .map_err(SourceError::from_client)?;
        *slot = Some(client.clone());
        Ok(client)
    }
}

impl Source for ChainSource {
    fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    fn head(&self) -> Head {
        self.head.borrow().clone()
    }

    fn relayers(&self) -> Vec<RelayerState> {
        self.relayers.read().map(|r| r.clone()).unwrap_or_default()
    }

    async fn smart(&self, contract: Contract, msg: Value) -> Result<Value, SourceError> {
        let head = self.head();
        if !head.reachable && head.error.is_some() {
            return Err(SourceError::Unavailable(head.error.unwrap_or_default()));
        }
        let address = match contract {
            Contract::Market => self.deployment.market.as_str(),
            Contract::Token => self.deployment.token.as_str(),
            Contract::Bridge => self
                .deployment
                .bridge
                .as_deref()
                .ok_or_else(|| SourceError::NotFound("this deployment has no arena-bridge".into()))?,
        };
        let client = self.client().await?;
        tokio::time::timeout(CALL_TIMEOUT, client.query_contract::<Value, Value>(address, &msg))
            .await
            .map_err(|_| SourceError::Unavailable(format!("no answer from {} in time", self.config.grpc_url)))?
            .map_err(SourceError::from_client)
    }

    /// Through the SDK's `cosmos.tx.v1beta1.Service/GetTxsEvent`, which hands the query to the
    /// node's CometBFT `tx_search`: the same index and query language, over the gRPC endpoint the
    /// explorer already reads (the manifest's RPC endpoint may be a websocket-only or private port).
    async fn search_txs(&self, query: String, page: u32, per_page: u32) -> Result<TxPage, SourceError> {
        let head = self.head();
        if !head.reachable && head.error.is_some() {
            return Err(SourceError::Unavailable(head.error.unwrap_or_default()));
        }
        let request = GetTxsEventRequest {
            query,
            order_by: OrderBy::Desc as i32,
            page: u64::from(page.max(1)),
            limit: u64::from(per_page),
            ..Default::default()
        };
        let answer = TxService::new(self.channel.clone()).get_txs_event(request).await.map_err(|status| {
            let message = format!("transaction search: {}: {}", status.code(), status.message());
            match status.code() {
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => SourceError::Unavailable(message),
                _ => SourceError::Upstream(message),
            }
        })?;
        let answer = answer.into_inner();
        Ok(TxPage {
            total: answer.total,
            txs: answer.tx_responses.into_iter().filter(|r| r.code == 0).map(FoundTx::from_response).collect(),
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Reads the newest block once per new-block notice (CometBFT websocket) or per second.
async fn follow_head(channel: Channel, rpc_urls: Vec<String>, tx: watch::Sender<Head>) {
    let mut blocks = Blocks::follow_any(&rpc_urls);
    let mut seen: VecDeque<(u64, f64)> = VecDeque::new();
    loop {
        let answer = NodeService::new(channel.clone()).get_latest_block(GetLatestBlockRequest {}).await;
        let next = match answer {
            Ok(block) => {
                let header = block.into_inner().sdk_block.and_then(|b| b.header);
                let (height, time) = header
                    .map(|h| {
                        let t = h.time.map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9).unwrap_or(0.0);
                        (h.height as u64, t)
                    })
                    .unwrap_or((0, 0.0));
                if seen.back().map(|&(h, _)| h) != Some(height) {
                    seen.push_back((height, time));
                    if seen.len() > BLOCK_TIME_WINDOW {
                        seen.pop_front();
                    }
                }
                Head { height, time: time as u64, block_seconds: block_seconds(&seen), reachable: true, error: None }
            }
            Err(status) => {
                let previous = tx.borrow().clone();
                Head { reachable: false, error: Some(format!("{}: {}", status.code(), status.message())), ..previous }
            }
        };
        tx.send_replace(next);
        blocks.next(HEAD_FALLBACK).await;
    }
}

/// Mean seconds per block over `(height, time)` samples.
pub fn block_seconds(seen: &VecDeque<(u64, f64)>) -> Option<f64> {
    let (&(h0, t0), &(h1, t1)) = (seen.front()?, seen.back()?);
    (h1 > h0 && t1 > t0).then(|| (t1 - t0) / (h1 - h0) as f64)
}

async fn poll_relayer(endpoint: String, index: usize, states: Arc<RwLock<Vec<RelayerState>>>) {
    loop {
        let status = relayer_status(&endpoint).await;
        if let Ok(mut states) = states.write() {
            let state = &mut states[index];
            if status.is_ok() {
                state.last_seen = Some(unix_now());
            }
            state.status = status;
        }
        tokio::time::sleep(RELAYER_POLL).await;
    }
}

async fn relayer_status(endpoint: &str) -> Result<RelayerStatus, String> {
    let channel = Endpoint::from_shared(endpoint.to_string())
        .map_err(|e| format!("endpoint {endpoint:?}: {e}"))?
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let s = RelayerClient::new(channel)
        .status(StatusRequest {})
        .await
        .map_err(|s| format!("{}: {}", s.code(), s.message()))?
        .into_inner();
    Ok(RelayerStatus {
        attester: s.attester,
        operator: s.operator,
        cosmos_height: s.cosmos_height,
        evm_chain_id: s.evm_chain_id,
        evm_height: s.evm_height,
        pending: s.pending,
        attested: s.attested,
        posted: s.posted,
        confirmed: s.confirmed,
        last_pass_height: s.last_pass_height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_time_is_the_mean_over_the_window() {
        let seen: VecDeque<(u64, f64)> = [(10, 100.0), (11, 100.2), (15, 101.0)].into_iter().collect();
        assert_eq!(block_seconds(&seen), Some(0.2));
        assert_eq!(block_seconds(&[(10, 100.0)].into_iter().collect()), None);
    }

    #[test]
    fn missing_things_are_not_found_and_a_dead_node_is_unavailable() {
        let missing = ClientError::Query("Unknown: task 7 does not exist: query wasm contract failed".into());
        assert!(matches!(SourceError::from_client(missing), SourceError::NotFound(_)));
        let gone = ClientError::NodeUnreachable { url: "http://127.0.0.1:1".into(), reason: "refused".into() };
        assert!(matches!(SourceError::from_client(gone), SourceError::Unavailable(_)));
        let other = ClientError::Query("Unknown: invalid address".into());
        assert!(matches!(SourceError::from_client(other), SourceError::Upstream(_)));
    }
}
