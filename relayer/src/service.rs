//! The tonic service `arena.relayer.v1.Relayer`, served beside gRPC health and reflection (so
//! `grpcurl -plaintext 127.0.0.1:50551 list` works without the .proto file).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use alloy::primitives::B256;
use arena_retry::Classify;
use arena_types::settlement::evm::{to_hex_0x, EvmAddress};
use arena_types::settlement::msg::{BatchResponse, BatchStatus as BridgeStatus, DEFAULT_LIMIT, MAX_LIMIT};
use futures::Stream;
use tokio_stream::wrappers::{BroadcastStream, TcpListenerStream};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};

use crate::error::RelayerError;
use crate::proto;
use crate::proto::relayer_server::{Relayer, RelayerServer};
use crate::settle::{EventKind, SettlementEvent, Settler};

/// The service over one relayer's [`Settler`].
#[derive(Clone, Debug)]
pub struct RelayerService {
    settler: Arc<Settler>,
}

impl RelayerService {
    /// A service answering from `settler`'s connections and its loop's events.
    pub fn new(settler: Arc<Settler>) -> Self {
        Self { settler }
    }
}

fn status_of(e: RelayerError) -> Status {
    if e.is_transient() {
        Status::unavailable(e.to_string())
    } else {
        Status::internal(e.to_string())
    }
}

fn bridge_error(e: arena_client::ClientError) -> Status {
    let text = e.to_string();
    if text.contains("not found") {
        Status::not_found(text)
    } else {
        status_of(e.into())
    }
}

fn batch_message(batch: &BatchResponse, posted: bool) -> proto::Batch {
    let status = match batch.status {
        BridgeStatus::Sealed => proto::BatchStatus::Sealed,
        BridgeStatus::Attested if posted => proto::BatchStatus::Posted,
        BridgeStatus::Attested => proto::BatchStatus::Attested,
        BridgeStatus::Confirmed => proto::BatchStatus::Confirmed,
    };
    proto::Batch {
        batch_id: batch.batch_id,
        status: status as i32,
        root: batch.root.clone(),
        total: batch.total.to_string(),
        count: batch.count,
        sealed_height: batch.sealed_height,
        digest: batch.digest.clone().unwrap_or_default(),
        attestation_count: batch.attestation_count,
        evm_tx_hash: batch.evm_tx_hash.clone().unwrap_or_default(),
    }
}

fn event_message(event: SettlementEvent) -> proto::SettlementEvent {
    let kind = match event.kind {
        EventKind::Sealed => proto::SettlementEventKind::Sealed,
        EventKind::Attested => proto::SettlementEventKind::Attested,
        EventKind::Posted => proto::SettlementEventKind::Posted,
        EventKind::Confirmed => proto::SettlementEventKind::Confirmed,
    };
    proto::SettlementEvent {
        kind: kind as i32,
        batch_id: event.batch_id,
        evm_tx_hash: event.evm_tx_hash.map(|h| h.to_string()).unwrap_or_default(),
        cosmos_tx_hash: event.cosmos_tx_hash.unwrap_or_default(),
        by_this_relayer: event.by_this_relayer,
        cosmos_height: event.cosmos_height,
        evm_height: event.evm_height,
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::SettlementEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Relayer for RelayerService {
    async fn status(&self, _request: Request<proto::StatusRequest>) -> Result<Response<proto::StatusResponse>, Status> {
        let s = &self.settler;
        let bridge = s.bridge();
        let cosmos_height = bridge.client().latest_height().await.map_err(|e| status_of(e.into()))?;
        // Read after the height: the request may have moved the client to another node.
        let cosmos_endpoint = bridge.client().current_endpoint();
        let evm_height = s.evm().block_number().await.map_err(|e| status_of(e.into()))?;
        let config = bridge.config().await.map_err(bridge_error)?;
        let snapshot = s.snapshot();
        Ok(Response::new(proto::StatusResponse {
            cosmos_chain_id: bridge.client().config().chain_id.clone(),
            cosmos_height,
            evm_chain_id: s.evm().chain_id(),
            evm_height,
            bridge: bridge.address().to_string(),
            settlement: s.evm().settlement_address().to_checksum(None),
            attesters: config
                .attesters
                .into_iter()
                .map(|a| proto::Attester { evm_address: a.evm_address, operator: a.operator })
                .collect(),
            threshold: config.threshold,
            attester: s.attester().to_checksum(None),
            operator: s.operator().to_string(),
            pending: snapshot.pending,
            attested: snapshot.attested,
            posted: snapshot.posted,
            confirmed: snapshot.confirmed,
            last_pass_height: snapshot.last_pass_height,
            cosmos_endpoint,
            cosmos_endpoints: bridge.client().config().endpoints(),
        }))
    }

    async fn list_batches(
        &self,
        request: Request<proto::ListBatchesRequest>,
    ) -> Result<Response<proto::ListBatchesResponse>, Status> {
        let request = request.into_inner();
        let wanted = proto::BatchStatus::try_from(request.status)
            .map_err(|_| Status::invalid_argument(format!("unknown status {}", request.status)))?;
        let bridge_status = match wanted {
            proto::BatchStatus::Unspecified => None,
            proto::BatchStatus::Sealed => Some(BridgeStatus::Sealed),
            proto::BatchStatus::Attested | proto::BatchStatus::Posted => Some(BridgeStatus::Attested),
            proto::BatchStatus::Confirmed => Some(BridgeStatus::Confirmed),
        };
        let limit = match request.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        };
        let start_after = (request.start_after > 0).then_some(request.start_after);
        let page = self.settler.bridge().batches_page(bridge_status, start_after, limit).await.map_err(bridge_error)?;
        let next_start_after = if page.len() as u32 == limit { page.last().map_or(0, |b| b.batch_id) } else { 0 };
        let mut batches = Vec::with_capacity(page.len());
        for batch in &page {
            let posted = batch.status == BridgeStatus::Attested
                && self.settler.evm().is_posted(batch.batch_id).await.map_err(|e| status_of(e.into()))?;
            let message = batch_message(batch, posted);
            let keep = match wanted {
                proto::BatchStatus::Attested => !posted,
                proto::BatchStatus::Posted => posted,
                _ => true,
            };
            if keep {
                batches.push(message);
            }
        }
        Ok(Response::new(proto::ListBatchesResponse { batches, next_start_after }))
    }

    async fn get_claim_proof(
        &self,
        request: Request<proto::GetClaimProofRequest>,
    ) -> Result<Response<proto::GetClaimProofResponse>, Status> {
        let request = request.into_inner();
        let recipient =
            EvmAddress::parse(&request.recipient).map_err(|e| Status::invalid_argument(format!("recipient: {e}")))?;
        if request.batch_id == 0 {
            return Err(Status::invalid_argument("batch ids start at 1"));
        }
        let bridge = self.settler.bridge();
        let batch = bridge.batch(request.batch_id).await.map_err(bridge_error)?;
        // The proofs come from the tree recomputed here, which is checked against the bridge's root.
        let verified = bridge.verified_leaves(&batch).await.map_err(status_of)?;
        let mut leaves = Vec::new();
        for (position, leaf) in verified.leaves.iter().enumerate() {
            if leaf.recipient != recipient {
                continue;
            }
            let proof = verified.tree.proof(position).map_err(|e| Status::internal(e.to_string()))?;
            leaves.push(proto::ClaimLeaf {
                index: leaf.index,
                amount: leaf.amount.to_string(),
                proof: proof.iter().map(|p| to_hex_0x(p)).collect(),
            });
        }
        let posted = self.settler.evm().is_posted(request.batch_id).await.map_err(|e| status_of(e.into()))?;
        Ok(Response::new(proto::GetClaimProofResponse {
            batch_id: request.batch_id,
            recipient: recipient.to_checksum(),
            root: to_hex_0x(&verified.tree.root()),
            posted,
            leaves,
        }))
    }

    type WatchSettlementsStream = EventStream;

    async fn watch_settlements(
        &self,
        _request: Request<proto::WatchSettlementsRequest>,
    ) -> Result<Response<Self::WatchSettlementsStream>, Status> {
        let stream = BroadcastStream::new(self.settler.subscribe()).filter_map(|event| match event {
            Ok(event) => Some(Ok(event_message(event))),
            // A slow watcher skips what it missed rather than ending the stream.
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "a settlement watcher lagged");
                None
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Binds `addr` and returns the bound address with a future that serves the relayer service,
/// health and reflection until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    settler: Arc<Settler>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, impl std::future::Future<Output = Result<(), tonic::transport::Error>>), RelayerError> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(RelayerError::io(format!("binding gRPC on {addr}")))?;
    let bound = listener.local_addr().map_err(RelayerError::io("gRPC listener address"))?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_serving::<RelayerServer<RelayerService>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| RelayerError::Config(format!("reflection: {e}")))?;
    let server = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(reflection)
        .add_service(RelayerServer::new(RelayerService::new(settler)))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown);
    Ok((bound, server))
}

/// Parses a `0x` transaction hash as printed by the service.
pub fn parse_tx_hash(text: &str) -> Option<B256> {
    text.parse().ok()
}
