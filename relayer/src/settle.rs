//! The settlement loop: each pass reads both chains and moves every open batch one step on.
//!
//! Per pass: seal when the bridge says a batch is sealable (optional; anyone may); list the
//! batches in status `sealed` and `attested`; for each, recompute the root from its leaves (a
//! mismatch is never signed), compute the EIP-712 digest two ways (arena-types, as the bridge
//! does, and alloy, as the settlement contract does) and compare it with the bridge's; attest if
//! this relayer's key has not; once `attested` and not on the EVM side, post with exactly
//! `threshold` of the bridge's signatures by attesters the settlement contract has now
//! ([`PostOutcome::AlreadyPosted`] is a success), and when a rotation left fewer than that, attest
//! again with this key; once posted, wait for the confirmation depth, check that the contract holds
//! the bridge's root, total and count under the id, and vote for the posting transaction on the
//! bridge (the hash of a post made by another relayer comes from its `BatchPosted` event). The
//! bridge marks the batch confirmed once `threshold` operators voted for the same hash.
//!
//! Nothing here is needed for correctness across restarts: every decision is taken from what the
//! two chains say now. The in-memory [`View`] only caches verified leaves and remembers which
//! events were already announced.
//!
//! The loop follows the step contract of every Arena loop ([`task`]): a step returns
//! `Next::Continue`, or an error that is retried on the next pass after a back-off, unless
//! [`RelayerError`]'s classification calls it fatal (the loop stops).

pub mod task;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, Signature, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use arena_evm::bindings::ArenaSettlement::BatchPosted;
use arena_evm::{Batch, EvmClient, PostOutcome, PostedBatch};
use arena_retry::{Backoff, Classify};
use arena_types::settlement::eip712::{batch_digest, BatchSource, SettlementDomain};
use arena_types::settlement::evm::{parse_hex_array, to_hex_0x, EvmAddress};
use arena_types::settlement::msg::{BatchResponse, BatchStatus, ExecuteMsg};
use tokio::sync::broadcast;

use crate::bridge::{Bridge, VerifiedBatch};
use crate::config::Resolved;
use crate::error::RelayerError;
use crate::metrics::Metrics;
use task::Next;

/// What the loop saw happen to a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A sealed batch, seen for the first time.
    Sealed,
    /// The batch holds the threshold of attestations on the bridge.
    Attested,
    /// The batch is on the EVM side.
    Posted,
    /// The bridge recorded the posting transaction.
    Confirmed,
}

/// One settlement event, as streamed by `WatchSettlements`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementEvent {
    /// What happened.
    pub kind: EventKind,
    /// To which batch.
    pub batch_id: u64,
    /// The EVM transaction that posted the batch (posted, confirmed).
    pub evm_tx_hash: Option<B256>,
    /// This relayer's Cosmos transaction, when it made the step.
    pub cosmos_tx_hash: Option<String>,
    /// Whether this relayer's own transaction made the step.
    pub by_this_relayer: bool,
    /// Cosmos height when seen.
    pub cosmos_height: u64,
    /// EVM height when seen.
    pub evm_height: u64,
}

/// Batch counts and heights as of the last complete pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Cosmos height at the start of the pass.
    pub cosmos_height: u64,
    /// EVM height at the start of the pass.
    pub evm_height: u64,
    /// Sealed, below the attestation threshold.
    pub pending: u64,
    /// Attested on the bridge, not on the EVM side.
    pub attested: u64,
    /// On the EVM side, not yet confirmed on the bridge.
    pub posted: u64,
    /// Confirmed on the bridge.
    pub confirmed: u64,
    /// Cosmos height of the last complete pass (0 before the first).
    pub last_pass_height: u64,
}

/// Loop settings, from [`Resolved`].
#[derive(Clone, Copy, Debug)]
pub struct LoopOptions {
    /// Confirmation depth (1 = the inclusion block).
    pub confirmations: u64,
    /// Pause between passes.
    pub poll_interval: Duration,
    /// Bridge list page size.
    pub page_size: u32,
    /// Seal when sealable.
    pub seal: bool,
    /// First block of the `BatchPosted` search.
    pub log_from_block: u64,
    /// Widest `eth_getLogs` range.
    pub log_block_range: u64,
}

/// What the loop remembers between passes: caches and announced events, nothing the chains do not
/// also hold.
#[derive(Debug, Default)]
struct View {
    /// Roots of batches whose leaves were fetched and checked.
    verified: HashMap<u64, String>,
    /// Posting transaction and block by batch.
    posts: HashMap<u64, (B256, u64)>,
    /// Events already announced.
    announced: HashSet<(u64, EventKind)>,
    /// Batches this relayer attested in this run.
    attested_here: HashSet<u64>,
    /// Open batches of the previous pass, to notice confirmations by others.
    open: BTreeMap<u64, BatchStatus>,
    snapshot: Snapshot,
}

/// One relayer: its two chain connections, its keys, and what it reports.
pub struct Settler {
    bridge: Bridge,
    operator: arena_client::Signer,
    evm: EvmClient,
    attester: PrivateKeySigner,
    domain: SettlementDomain,
    /// The chain and bridge this relayer settles, as the signed batches name them.
    source: BatchSource,
    options: LoopOptions,
    metrics: Metrics,
    events: broadcast::Sender<SettlementEvent>,
    view: Mutex<View>,
}

impl std::fmt::Debug for Settler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settler")
            .field("bridge", &self.bridge.address())
            .field("operator", &self.operator.address().as_ref())
            .field("settlement", &self.evm.settlement_address())
            .field("attester", &self.attester.address())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Settler {
    /// Connects to both chains (retrying while a node is still starting) and checks that the
    /// attester key is registered with the settlement contract.
    pub async fn connect(config: Resolved, metrics: Metrics) -> Result<Arc<Self>, RelayerError> {
        let chain = config.chain.clone();
        let client = arena_retry::retry("connecting to the Cosmos chain", Backoff::REQUEST, || {
            arena_client::Client::connect(chain.clone())
        })
        .await?;
        let evm = arena_retry::retry("connecting to the EVM chain", Backoff::REQUEST, || {
            EvmClient::connect(config.evm.clone(), config.attester.clone(), config.settlement)
        })
        .await?;
        if !evm.is_attester(config.attester.address()).await? {
            tracing::warn!(attester = %config.attester.address(), "the attester key is not registered with the settlement contract");
        }
        let domain = SettlementDomain {
            chain_id: config.evm.chain_id,
            verifying_contract: EvmAddress(config.settlement.into_array()),
        };
        let options = LoopOptions {
            confirmations: config.confirmations,
            poll_interval: config.poll_interval,
            page_size: config.page_size,
            seal: config.seal,
            log_from_block: config.log_from_block,
            log_block_range: config.log_block_range,
        };
        let (events, _) = broadcast::channel(1024);
        let source = BatchSource::new(&config.chain.chain_id, &config.bridge);
        check_source(&evm, &source, &config.chain.chain_id, &config.bridge).await?;
        let bridge = Bridge::new(client, config.bridge);
        check_attester_entry(&bridge, config.attester.address(), config.operator.address().as_ref()).await;
        Ok(Arc::new(Self {
            bridge,
            operator: config.operator,
            evm,
            attester: config.attester,
            domain,
            source,
            options,
            metrics,
            events,
            view: Mutex::new(View::default()),
        }))
    }

    /// The bridge.
    pub fn bridge(&self) -> &Bridge {
        &self.bridge
    }

    /// The EVM client (signing with the attester key).
    pub fn evm(&self) -> &EvmClient {
        &self.evm
    }

    /// This relayer's attester address.
    pub fn attester(&self) -> Address {
        self.attester.address()
    }

    /// This relayer's operator account.
    pub fn operator(&self) -> &str {
        self.operator.address().as_ref()
    }

    /// The loop settings.
    pub fn options(&self) -> &LoopOptions {
        &self.options
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SettlementEvent> {
        self.events.subscribe()
    }

    /// Counts and heights as of the last complete pass.
    pub fn snapshot(&self) -> Snapshot {
        self.view.lock().expect("view lock").snapshot
    }

    /// The step of the loop: one pass; a failed pass is counted in the metrics.
    pub async fn step(&self) -> Result<Next, RelayerError> {
        self.pass().await.map(|()| Next::Continue).inspect_err(|e| {
            self.metrics.errors.with_label_values(&[e.kind()]).inc();
        })
    }

    /// One pass over both chains. Errors of one batch are counted and logged and do not stop the
    /// others; errors reading the batch lists end the pass.
    pub async fn pass(&self) -> Result<(), RelayerError> {
        let cosmos_height = self.bridge.client().latest_height().await?;
        let evm_height = self.evm.block_number().await?;
        self.metrics.height.with_label_values(&["cosmos"]).set(cosmos_height as i64);
        self.metrics.height.with_label_values(&["evm"]).set(evm_height as i64);
        let heights = (cosmos_height, evm_height);

        if self.options.seal {
            if let Err(e) = self.seal_if_sealable().await {
                self.record_error(None, &e);
            }
        }

        let mut open = self.bridge.all_batches(BatchStatus::Sealed, self.options.page_size).await?;
        open.extend(self.bridge.all_batches(BatchStatus::Attested, self.options.page_size).await?);
        open.sort_by_key(|b| b.batch_id);

        let mut posted_blocks = Vec::new();
        let mut counts = (0u64, 0u64, 0u64);
        for batch in &open {
            match self.advance(batch, heights).await {
                Ok(stage) => match stage {
                    Stage::Pending => counts.0 += 1,
                    Stage::Attested => counts.1 += 1,
                    Stage::Posted(block) => {
                        counts.2 += 1;
                        posted_blocks.push(block);
                    }
                    Stage::Confirmed => {}
                },
                Err(e) => {
                    self.record_error(Some(batch.batch_id), &e);
                    match batch.status {
                        BatchStatus::Sealed => counts.0 += 1,
                        _ => counts.1 += 1,
                    }
                }
            }
        }

        // Batches open last pass and gone now were confirmed, by this relayer or another.
        let gone: Vec<u64> = {
            let view = self.view.lock().expect("view lock");
            let now: HashSet<u64> = open.iter().map(|b| b.batch_id).collect();
            view.open.keys().filter(|id| !now.contains(id)).copied().collect()
        };
        for batch_id in gone {
            if let Ok(batch) = self.bridge.batch(batch_id).await {
                if batch.status == BatchStatus::Confirmed {
                    let tx =
                        batch.evm_tx_hash.as_deref().and_then(|h| parse_hex_array::<32>("tx", h).ok()).map(B256::from);
                    self.announce(EventKind::Confirmed, batch_id, tx, None, false, heights);
                }
            }
        }

        let outbox = self.bridge.outbox().await?;
        let sealed_so_far = outbox.next_batch_id.saturating_sub(1);
        let oldest_open = open.iter().map(|b| b.sealed_height).min();
        let cosmos_lag = oldest_open.map_or(0, |h| cosmos_height.saturating_sub(h));
        let evm_lag = posted_blocks.iter().min().map_or(0, |b| evm_height.saturating_sub(*b));
        self.metrics.lag_blocks.with_label_values(&["cosmos"]).set(cosmos_lag as i64);
        self.metrics.lag_blocks.with_label_values(&["evm"]).set(evm_lag as i64);
        let snapshot = Snapshot {
            cosmos_height,
            evm_height,
            pending: counts.0,
            attested: counts.1,
            posted: counts.2,
            confirmed: sealed_so_far.saturating_sub(open.len() as u64),
            last_pass_height: cosmos_height,
        };
        for (stage, n) in [
            ("sealed", snapshot.pending),
            ("attested", snapshot.attested),
            ("posted", snapshot.posted),
            ("confirmed", snapshot.confirmed),
        ] {
            self.metrics.batches.with_label_values(&[stage]).set(n as i64);
        }
        self.metrics.last_pass_height.set(cosmos_height as i64);
        let mut view = self.view.lock().expect("view lock");
        view.open = open.iter().map(|b| (b.batch_id, b.status)).collect();
        view.snapshot = snapshot;
        Ok(())
    }

    fn record_error(&self, batch_id: Option<u64>, e: &RelayerError) {
        self.metrics.errors.with_label_values(&[e.kind()]).inc();
        if e.is_transient() {
            tracing::warn!(?batch_id, error = %e, "step failed; retrying on the next pass");
        } else {
            tracing::error!(?batch_id, error = %e, "step failed");
        }
    }

    fn announce(
        &self,
        kind: EventKind,
        batch_id: u64,
        evm_tx_hash: Option<B256>,
        cosmos_tx_hash: Option<String>,
        by_this_relayer: bool,
        (cosmos_height, evm_height): (u64, u64),
    ) {
        let first = self.view.lock().expect("view lock").announced.insert((batch_id, kind));
        if !first {
            return;
        }
        if kind == EventKind::Sealed {
            self.metrics.batches_seen.inc();
        }
        tracing::info!(batch_id, ?kind, ?evm_tx_hash, by_this_relayer, "settlement event");
        // No receiver is fine: nobody watches.
        let _ = self.events.send(SettlementEvent {
            kind,
            batch_id,
            evm_tx_hash,
            cosmos_tx_hash,
            by_this_relayer,
            cosmos_height,
            evm_height,
        });
    }

    async fn seal_if_sealable(&self) -> Result<(), RelayerError> {
        let outbox = self.bridge.outbox().await?;
        if !outbox.sealable {
            return Ok(());
        }
        match self.bridge.execute(&self.operator, &ExecuteMsg::SealBatch {}).await {
            Ok(tx) => {
                self.metrics.batches_sealed.inc();
                tracing::info!(batch_id = outbox.next_batch_id, tx = %tx.txhash, "sealed a batch");
                Ok(())
            }
            // Another relayer sealed the queue first: nothing left to seal is not a failure.
            Err(arena_client::ClientError::Simulation(log)) if !self.bridge.outbox().await?.sealable => {
                tracing::debug!(%log, "seal lost a race");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Moves one open batch on as far as the chains allow now.
    async fn advance(&self, batch: &BatchResponse, heights: (u64, u64)) -> Result<Stage, RelayerError> {
        let batch_id = batch.batch_id;
        self.announce(EventKind::Sealed, batch_id, None, None, false, heights);
        self.verify(batch).await?;
        let header = batch.header(self.source)?;
        let digest = batch_digest(&self.domain, &header);
        let alloy_batch = Batch {
            sourceChain: B256::from(header.source.chain),
            sourceBridge: B256::from(header.source.bridge),
            batchId: batch_id,
            root: B256::from(header.root),
            total: U256::from(batch.total.u128()),
            count: batch.count,
        };
        let alloy_digest = self.evm.batch_digest(&alloy_batch);
        let digest_hex = to_hex_0x(&digest);
        let bridge_digest_matches = batch.digest.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(&digest_hex));
        if alloy_digest.0 != digest || !bridge_digest_matches {
            return Err(RelayerError::DigestMismatch {
                batch_id,
                bridge: batch.digest.clone(),
                computed: digest_hex,
                settlement: self.evm.settlement_address().to_checksum(None),
            });
        }
        match batch.status {
            BatchStatus::Sealed => {
                self.attest_if_missing(batch_id, &alloy_batch, &digest_hex).await?;
                Ok(Stage::Pending)
            }
            BatchStatus::Attested => {
                let by_us = self.view.lock().expect("view lock").attested_here.contains(&batch_id);
                self.announce(EventKind::Attested, batch_id, None, None, by_us, heights);
                self.post_and_confirm(batch, &alloy_batch, &digest_hex, heights).await
            }
            BatchStatus::Confirmed => Ok(Stage::Confirmed),
        }
    }

    /// Fetches the leaves and recomputes the root once per batch (leaves never change).
    async fn verify(&self, batch: &BatchResponse) -> Result<(), RelayerError> {
        let cached = self.view.lock().expect("view lock").verified.get(&batch.batch_id).cloned();
        if cached.is_some_and(|root| root.eq_ignore_ascii_case(&batch.root)) {
            return Ok(());
        }
        let VerifiedBatch { .. } = self.bridge.verified_leaves(batch).await?;
        self.view.lock().expect("view lock").verified.insert(batch.batch_id, batch.root.clone());
        Ok(())
    }

    async fn attest_if_missing(&self, batch_id: u64, batch: &Batch, digest_hex: &str) -> Result<(), RelayerError> {
        if self.attested_by_us(batch_id, digest_hex).await? {
            return Ok(());
        }
        let signature = self.evm.sign_batch(&self.attester, batch)?;
        let msg = ExecuteMsg::Attest { batch_id, signature: to_hex_0x(&signature.as_bytes()) };
        let tx = match self.bridge.execute(&self.operator, &msg).await {
            Ok(tx) => tx,
            // Our earlier attestation may have landed after the query (a restart while it was in
            // flight), and the bridge refuses a second one: look again rather than read its error.
            Err(e) if self.attested_by_us(batch_id, digest_hex).await? => {
                tracing::info!(batch_id, refused = %e, "already attested by this key");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        self.metrics.batches_attested.inc();
        self.view.lock().expect("view lock").attested_here.insert(batch_id);
        tracing::info!(batch_id, tx = %tx.txhash, "attested");
        Ok(())
    }

    /// Whether the bridge holds this relayer's attestation of `digest_hex` for the batch.
    async fn attested_by_us(&self, batch_id: u64, digest_hex: &str) -> Result<bool, RelayerError> {
        let ours = self.attester.address();
        let attestations = self.bridge.attestations(batch_id).await?;
        Ok(attestations
            .iter()
            .any(|a| a.digest.eq_ignore_ascii_case(digest_hex) && a.signer.parse::<Address>().is_ok_and(|s| s == ours)))
    }

    async fn post_and_confirm(
        &self,
        response: &BatchResponse,
        batch: &Batch,
        digest_hex: &str,
        heights: (u64, u64),
    ) -> Result<Stage, RelayerError> {
        let batch_id = batch.batchId;
        let (tx_hash, block, by_us) = match self.posting_tx(batch_id).await? {
            Some((tx, block)) => (tx, block, false),
            None => {
                let signatures = match self.signatures(batch_id, digest_hex).await? {
                    Selection::Ready(signatures) => signatures,
                    Selection::Short { current, threshold } => {
                        // The bridge counted the batch attested, but by attesters the settlement
                        // contract has since removed: posting would revert forever. Add ours.
                        tracing::info!(batch_id, current, threshold, "too few attestations by current EVM attesters");
                        self.reattest(batch_id, batch, digest_hex).await?;
                        return Ok(Stage::Attested);
                    }
                };
                match self.evm.post_batch(batch, &signatures).await? {
                    PostOutcome::Posted(tx) => {
                        self.metrics.batches_posted.with_label_values(&["posted"]).inc();
                        tracing::info!(batch_id, tx = %tx.tx_hash, block = tx.block_number, gas = tx.gas_used, "posted");
                        self.view.lock().expect("view lock").posts.insert(batch_id, (tx.tx_hash, tx.block_number));
                        (tx.tx_hash, tx.block_number, true)
                    }
                    PostOutcome::AlreadyPosted => {
                        self.metrics.batches_posted.with_label_values(&["already_posted"]).inc();
                        match self.posting_tx(batch_id).await? {
                            Some((tx, block)) => (tx, block, false),
                            // The event is not visible to this node yet: the next pass finds it.
                            None => return Ok(Stage::Attested),
                        }
                    }
                }
            }
        };
        self.announce(EventKind::Posted, batch_id, Some(tx_hash), None, by_us, heights);

        let head = self.evm.block_number().await?.max(heights.1);
        if head + 1 < block + self.options.confirmations {
            return Ok(Stage::Posted(block));
        }
        // `isPosted` says only that something sits under this id: confirm nothing the bridge's
        // users could not claim.
        check_posted(response, &self.evm.batch(batch_id).await?)?;
        let evm_tx_hash = to_hex_0x(tx_hash.as_slice());
        let ours = self.operator.address().to_string();
        if response
            .confirmations
            .iter()
            .any(|c| c.operator.as_str() == ours && c.evm_tx_hash.eq_ignore_ascii_case(&evm_tx_hash))
        {
            // Our vote is in; the other operators' complete it.
            return Ok(Stage::Posted(block));
        }
        let tx = self.bridge.execute(&self.operator, &ExecuteMsg::Confirm { batch_id, evm_tx_hash }).await?;
        self.metrics.batches_confirmed.inc();
        tracing::info!(batch_id, evm_tx = %tx_hash, tx = %tx.txhash, "voted to confirm");
        if self.bridge.batch(batch_id).await?.status != BatchStatus::Confirmed {
            return Ok(Stage::Posted(block));
        }
        self.announce(EventKind::Confirmed, batch_id, Some(tx_hash), Some(tx.txhash), true, (tx.height, head));
        Ok(Stage::Confirmed)
    }

    /// Attests `batch` again with this key, when the settlement contract has it as an attester
    /// (after a rotation, the bridge may hold attestations of keys the contract no longer takes).
    async fn reattest(&self, batch_id: u64, batch: &Batch, digest_hex: &str) -> Result<(), RelayerError> {
        if !self.evm.is_attester(self.attester.address()).await? {
            tracing::warn!(batch_id, attester = %self.attester.address(), "this key is not an attester of the settlement contract; cannot help");
            return Ok(());
        }
        self.attest_if_missing(batch_id, batch, digest_hex).await
    }

    /// The signatures to post: exactly `threshold` of the bridge's attestations over the current
    /// digest whose signers the settlement contract has as attesters now, ordered by signer as
    /// `postBatch` wants.
    async fn signatures(&self, batch_id: u64, digest_hex: &str) -> Result<Selection, RelayerError> {
        let digest: B256 = B256::from(parse_hex_array::<32>("digest", digest_hex)?);
        let mut signed = Vec::new();
        for (index, a) in self
            .bridge
            .attestations(batch_id)
            .await?
            .iter()
            .filter(|a| a.digest.eq_ignore_ascii_case(digest_hex))
            .enumerate()
        {
            let bytes = parse_hex_array::<65>("signature", &a.signature)?;
            let signature = Signature::from_raw(&bytes)
                .map_err(|source| RelayerError::Evm(arena_evm::EvmError::Unrecoverable { index, source }))?;
            // The signer as the signature says, not as the bridge's answer says.
            let signer = signature
                .recover_address_from_prehash(&digest)
                .map_err(|source| RelayerError::Evm(arena_evm::EvmError::Unrecoverable { index, source }))?;
            if self.evm.is_attester(signer).await? {
                signed.push((signer, signature));
            }
        }
        Ok(select_signatures(signed, self.evm.threshold().await?))
    }

    /// The transaction and block that posted `batch_id`, from the contract's `BatchPosted` event;
    /// `None` when the batch is not posted.
    pub async fn posting_tx(&self, batch_id: u64) -> Result<Option<(B256, u64)>, RelayerError> {
        if let Some(found) = self.view.lock().expect("view lock").posts.get(&batch_id).copied() {
            return Ok(Some(found));
        }
        if !self.evm.is_posted(batch_id).await? {
            return Ok(None);
        }
        let found =
            find_batch_posted(&self.evm, batch_id, self.options.log_from_block, self.options.log_block_range).await?;
        if let Some(found) = found {
            self.view.lock().expect("view lock").posts.insert(batch_id, found);
        }
        Ok(found)
    }
}

/// Which signatures a post would carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Exactly the threshold, ordered by signer ascending.
    Ready(Vec<Signature>),
    /// Fewer signatures by current attesters than the threshold.
    Short {
        /// Signatures by current attesters.
        current: usize,
        /// The settlement contract's threshold.
        threshold: u32,
    },
}

/// Picks the signatures of a post from those by current attesters: the `threshold` lowest signer
/// addresses, ascending (any `threshold` would do; more would only cost calldata and
/// `ecrecover`s, and a signature of a key removed since would revert the whole post).
pub fn select_signatures(mut signed: Vec<(Address, Signature)>, threshold: u32) -> Selection {
    signed.sort_by_key(|(signer, _)| *signer);
    signed.dedup_by_key(|(signer, _)| *signer);
    if signed.len() < threshold as usize {
        return Selection::Short { current: signed.len(), threshold };
    }
    Selection::Ready(signed.into_iter().take(threshold as usize).map(|(_, s)| s).collect())
}

/// Checks that the settlement contract holds the bridge's batch under its id: the same root, total
/// and count. A zero root (nothing posted) or any difference refuses the confirmation.
pub fn check_posted(batch: &BatchResponse, posted: &PostedBatch) -> Result<(), RelayerError> {
    let root = B256::from(parse_hex_array::<32>("root", &batch.root)?);
    let total = U256::from(batch.total.u128());
    if posted.root == root && posted.total == total && posted.count == batch.count {
        return Ok(());
    }
    Err(RelayerError::PostedMismatch {
        batch_id: batch.batch_id,
        bridge: format!("root {root}, total {total}, count {}", batch.count),
        evm: format!("root {}, total {}, count {}", posted.root, posted.total, posted.count),
    })
}

/// Refuses a settlement contract deployed for another source: every post to it would revert
/// with `WrongSource`, and its batches are not this bridge's.
async fn check_source(evm: &EvmClient, ours: &BatchSource, chain_id: &str, bridge: &str) -> Result<(), RelayerError> {
    let theirs = evm.source().await?;
    if theirs.chain.0 == ours.chain && theirs.bridge.0 == ours.bridge {
        return Ok(());
    }
    Err(RelayerError::WrongSource {
        settlement: evm.settlement_address().to_checksum(None),
        evm_chain: theirs.chain.to_string(),
        evm_bridge: theirs.bridge.to_string(),
        bridge: bridge.to_string(),
        chain_id: chain_id.to_string(),
        our_chain: to_hex_0x(&ours.chain),
        our_bridge: to_hex_0x(&ours.bridge),
    })
}

/// Warns when the bridge's attester set does not pair this attester key with this operator: the
/// bridge would then refuse this relayer's confirmations (or count none of its attestations).
async fn check_attester_entry(bridge: &Bridge, attester: Address, operator: &str) {
    match bridge.config().await {
        Ok(config) => {
            match config.attesters.iter().find(|a| a.evm_address.parse::<Address>().is_ok_and(|a| a == attester)) {
                None => tracing::warn!(%attester, "the bridge's attester set does not hold this attester key"),
                Some(entry) if entry.operator != operator => tracing::warn!(
                    %attester,
                    registered = %entry.operator,
                    configured = %operator,
                    "the bridge pairs this attester with another operator; its confirmations will be refused"
                ),
                Some(_) => {}
            }
            if config.evm_settlement.is_none() {
                tracing::warn!(
                    "the bridge has no EVM settlement address yet (set_evm_settlement); nothing can be attested"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the bridge's config"),
    }
}

/// Where an open batch stands after a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Pending,
    Attested,
    /// Posted in this EVM block, waiting for the confirmation depth.
    Posted(u64),
    Confirmed,
}

/// Searches `BatchPosted(batch_id)` from the head back to `from_block`, `range` blocks per request.
pub async fn find_batch_posted(
    evm: &EvmClient,
    batch_id: u64,
    from_block: u64,
    range: u64,
) -> Result<Option<(B256, u64)>, RelayerError> {
    let head = evm.block_number().await?;
    if from_block > head {
        // Nothing is posted above the head (a node still syncing, a floor set for another chain);
        // asking for from > to would be refused by the node.
        return Ok(None);
    }
    let topic = B256::from(U256::from(batch_id));
    let mut to = head;
    loop {
        let from = to.saturating_sub(range.saturating_sub(1)).max(from_block);
        let filter = Filter::new()
            .address(evm.settlement_address())
            .event_signature(BatchPosted::SIGNATURE_HASH)
            .topic1(topic)
            .from_block(from)
            .to_block(to);
        let logs = evm.provider().get_logs(&filter).await.map_err(arena_evm::EvmError::from)?;
        if let Some(log) = logs.iter().find(|l| !l.removed) {
            if let (Some(tx), Some(block)) = (log.transaction_hash, log.block_number) {
                return Ok(Some((tx, block)));
            }
        }
        if from <= from_block || from == 0 {
            return Ok(None);
        }
        to = from - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use alloy::signers::SignerSync;
    use arena_types::settlement::msg::ConfirmationResponse;
    use cosmwasm_std::Uint128;

    fn signed_by(keys: &[u8]) -> Vec<(Address, Signature)> {
        keys.iter()
            .map(|k| {
                let key = PrivateKeySigner::from_bytes(&B256::with_last_byte(*k)).unwrap();
                (key.address(), key.sign_hash_sync(&B256::repeat_byte(7)).unwrap())
            })
            .collect()
    }

    // Scenario 10 of issue 11: the relayer posted every attestation the bridge held, including
    // those of attesters removed since, so the post reverted forever.
    #[test]
    fn exactly_threshold_signatures_are_posted_lowest_signers_first() {
        let signed = signed_by(&[3, 1, 2]);
        let mut expected: Vec<(Address, Signature)> = signed.clone();
        expected.sort_by_key(|(a, _)| *a);
        let Selection::Ready(chosen) = select_signatures(signed, 2) else { panic!("three signatures cover 2") };
        assert_eq!(chosen, vec![expected[0].1, expected[1].1]);
    }

    #[test]
    fn fewer_current_signatures_than_the_threshold_ask_for_a_new_attestation() {
        let mut signed = signed_by(&[1]);
        // The same signer twice counts once.
        signed.push(signed[0]);
        assert_eq!(select_signatures(signed, 2), Selection::Short { current: 1, threshold: 2 });
    }

    fn bridge_batch() -> BatchResponse {
        BatchResponse {
            batch_id: 1,
            status: BatchStatus::Attested,
            root: format!("0x{}", "ab".repeat(32)),
            total: Uint128::new(300),
            count: 2,
            sealed_height: 5,
            digest: None,
            attestation_count: 2,
            evm_tx_hash: None,
            confirmed_by: None,
            confirmations: vec![ConfirmationResponse {
                operator: cosmwasm_std::Addr::unchecked("inj1op"),
                evm_tx_hash: "0x00".into(),
            }],
        }
    }

    // Scenario 8 of issue 11: `isPosted(batchId)` was all the relayer checked before confirming.
    #[test]
    fn only_the_bridges_own_batch_on_the_evm_side_may_be_confirmed() {
        let batch = bridge_batch();
        let posted =
            PostedBatch { root: B256::repeat_byte(0xab), total: U256::from(300), claimed: U256::ZERO, count: 2 };
        assert!(check_posted(&batch, &posted).is_ok());
        for other in [
            PostedBatch { root: B256::repeat_byte(0xcd), ..posted },
            PostedBatch { total: U256::from(301), ..posted },
            PostedBatch { count: 3, ..posted },
            PostedBatch { root: B256::ZERO, total: U256::ZERO, claimed: U256::ZERO, count: 0 },
        ] {
            let error = check_posted(&batch, &other).unwrap_err();
            assert!(matches!(error, RelayerError::PostedMismatch { batch_id: 1, .. }), "{error}");
            assert_eq!(error.class(), arena_retry::ErrorClass::Refused);
        }
    }
}
