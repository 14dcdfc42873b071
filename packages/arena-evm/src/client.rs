//! [`EvmClient`]: one signer's connection to a deployed ArenaSettlement.

use std::sync::Arc;
use std::time::Duration;

use alloy::network::{EthereumWallet, ReceiptResponse};
use alloy::primitives::{Address, Bytes, Signature, B256, U256};
use alloy::providers::{DynProvider, PendingTransactionBuilder, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use tokio::sync::Mutex;

use crate::attest::{self, Batch};
use crate::bindings::ArenaSettlement::{self, ArenaSettlementErrors, ArenaSettlementInstance};
use crate::bindings::ArenaToken::{self, ArenaTokenInstance};
use crate::EvmError;

/// Where and how to reach the EVM chain.
#[derive(Clone, Debug)]
pub struct EvmConfig {
    /// JSON-RPC endpoint, `http://` or `https://`.
    pub rpc_url: String,
    /// Chain the endpoint must serve (84532 for Base Sepolia and the local anvil).
    pub chain_id: u64,
    /// Blocks a transaction must have on top of (and including) its own before it counts: 1 is the
    /// inclusion block itself.
    pub confirmations: u64,
    /// How long to wait for those confirmations before giving up (a retryable error).
    pub receipt_timeout: Duration,
    /// How often to poll for new blocks while waiting for a receipt. Base produces a block every
    /// 2 s; alloy's own default for a remote endpoint is 7 s.
    pub poll_interval: Duration,
}

impl EvmConfig {
    /// A config for `rpc_url` on `chain_id`: one confirmation, two minutes to get it, polling
    /// every second.
    pub fn new(rpc_url: impl Into<String>, chain_id: u64) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            chain_id,
            confirmations: 1,
            receipt_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Constructor arguments of ArenaSettlement (which deploys its ArenaToken).
#[derive(Clone, Debug)]
pub struct SettlementParams {
    /// Owner allowed to propose attester-set changes (Ownable2Step).
    pub owner: Address,
    /// The bridge whose batches the contract settles, for good.
    pub source: BatchSource,
    /// Seconds between proposing an attester-set change and executing it.
    pub timelock_delay: u64,
    /// Most that the batches posted in one period may total, in token base units (the contract
    /// takes a uint192; a u128 is 3.4e32 tokens at 6 decimals, more than any cap needs).
    pub mint_cap_per_period: u128,
    /// Length of a rate-limit period, in seconds.
    pub mint_period: u64,
    /// Initial attesters: the relayers' EVM addresses.
    pub attesters: Vec<Address>,
    /// Signatures a batch needs, 1..=attesters.len().
    pub threshold: u32,
    /// ERC-20 name of the reward token.
    pub token_name: String,
    /// ERC-20 symbol of the reward token.
    pub token_symbol: String,
}

/// Addresses and receipt of a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The ArenaSettlement contract.
    pub settlement: Address,
    /// The ArenaToken it deployed in its constructor.
    pub token: Address,
    /// The deployment transaction.
    pub tx: TxOutcome,
}

/// A mined transaction that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// Its hash.
    pub tx_hash: B256,
    /// Block it was included in.
    pub block_number: u64,
    /// Gas it used.
    pub gas_used: u64,
}

/// What posting a batch achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// This relayer's transaction posted it.
    Posted(TxOutcome),
    /// Another relayer posted the same batch first (with the same root, or in a transaction still
    /// pending, which the next pass finds); nothing left to post.
    AlreadyPosted,
}

/// The Cosmos chain and bridge a settlement contract settles, as the signed batch names them
/// (`keccak256` of the chain id and of the bridge address; see `arena_types`' `BatchSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BatchSource {
    /// keccak256 of the Cosmos chain id.
    pub chain: B256,
    /// keccak256 of the bridge's bech32 address.
    pub bridge: B256,
}

impl BatchSource {
    /// The source of the bridge at `bridge` on the chain `chain_id`.
    pub fn new(chain_id: &str, bridge: &str) -> Self {
        Self { chain: alloy::primitives::keccak256(chain_id), bridge: alloy::primitives::keccak256(bridge) }
    }
}

/// What batches posted now may still total in this period, and when the period ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MintAllowance {
    /// Left in the current period.
    pub remaining: U256,
    /// Unix time at which the next period starts with the whole cap.
    pub period_ends_at: U256,
}

/// A posted batch as the contract records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostedBatch {
    /// Merkle root; zero when the batch is not posted.
    pub root: B256,
    /// Signed total of the leaf amounts.
    pub total: U256,
    /// Claimed so far.
    pub claimed: U256,
    /// Number of leaves.
    pub count: u32,
}

/// One leaf of a batch: the values of the StandardMerkleTree leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimLeaf {
    /// The batch.
    pub batch_id: u64,
    /// Leaf index within the batch.
    pub index: u32,
    /// Who receives the tokens.
    pub recipient: Address,
    /// Amount in the token's base units (6 decimals, as the cw20).
    pub amount: U256,
}

/// A signer's connection to a deployed ArenaSettlement and its token.
#[derive(Clone, Debug)]
pub struct EvmClient {
    provider: DynProvider,
    settlement: ArenaSettlementInstance<DynProvider>,
    token: ArenaTokenInstance<DynProvider>,
    signer: Address,
    config: EvmConfig,
    /// Held from filling a transaction until the node accepted it, so two sends of this client
    /// (and its clones) never read the same pending nonce.
    send_lock: Arc<Mutex<()>>,
}

impl EvmClient {
    /// Connects `signer` to the settlement contract at `settlement`, checking the chain id and
    /// reading the token address from the contract.
    pub async fn connect(config: EvmConfig, signer: PrivateKeySigner, settlement: Address) -> Result<Self, EvmError> {
        let signer_address = signer.address();
        let provider = connect_provider(&config, signer).await?;
        let instance = ArenaSettlement::new(settlement, provider.clone());
        let token = instance.token().call().await.map_err(EvmError::from_call)?;
        Ok(Self {
            token: ArenaToken::new(token, provider.clone()),
            settlement: instance,
            provider,
            signer: signer_address,
            config,
            send_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Deploys ArenaSettlement (which deploys ArenaToken in its constructor) from `deployer`, waits
    /// for the configured confirmations, and returns a client for it plus the addresses.
    pub async fn deploy(
        config: EvmConfig,
        deployer: PrivateKeySigner,
        params: &SettlementParams,
    ) -> Result<(Self, Deployment), EvmError> {
        let provider = connect_provider(&config, deployer.clone()).await?;
        let cap = alloy::primitives::aliases::U192::from(params.mint_cap_per_period);
        let contract_params = ArenaSettlement::Params {
            sourceChain: params.source.chain,
            sourceBridge: params.source.bridge,
            timelockDelay: params.timelock_delay,
            mintCapPerPeriod: cap,
            mintPeriod: params.mint_period,
        };
        let pending = ArenaSettlement::deploy_builder(
            provider,
            params.owner,
            contract_params,
            params.attesters.clone(),
            params.threshold,
            params.token_name.clone(),
            params.token_symbol.clone(),
        )
        .send()
        .await
        .map_err(EvmError::from_call)?;
        let receipt = wait(pending, &config).await?;
        let tx = outcome(&receipt);
        let settlement = receipt.contract_address().ok_or(EvmError::NotDeployed { tx_hash: tx.tx_hash })?;
        let client = Self::connect(config, deployer, settlement).await?;
        let token = client.token_address();
        Ok((client, Deployment { settlement, token, tx }))
    }

    /// The settlement contract's address.
    pub fn settlement_address(&self) -> Address {
        *self.settlement.address()
    }

    /// The token's address.
    pub fn token_address(&self) -> Address {
        *self.token.address()
    }

    /// The address this client signs with.
    pub fn signer_address(&self) -> Address {
        self.signer
    }

    /// The chain id (checked against the endpoint when connecting).
    pub fn chain_id(&self) -> u64 {
        self.config.chain_id
    }

    /// The provider, for reads this client does not wrap.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The EIP-712 digest attesters sign for `batch` on this contract (whose `source` fields must
    /// be the contract's for it to count).
    pub fn batch_digest(&self, batch: &Batch) -> B256 {
        attest::batch_digest(self.config.chain_id, self.settlement_address(), batch)
    }

    /// Signs `batch` for this contract with `attester`.
    pub fn sign_batch(&self, attester: &PrivateKeySigner, batch: &Batch) -> Result<Signature, EvmError> {
        attest::sign_batch(attester, self.config.chain_id, self.settlement_address(), batch)
    }

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64, EvmError> {
        Ok(self.provider.get_block_number().await?)
    }

    /// The source the contract was deployed for.
    pub async fn source(&self) -> Result<BatchSource, EvmError> {
        let chain = self.settlement.sourceChain().call().await.map_err(EvmError::from_call)?;
        let bridge = self.settlement.sourceBridge().call().await.map_err(EvmError::from_call)?;
        Ok(BatchSource { chain, bridge })
    }

    /// What batches posted now may still total in this period.
    pub async fn mint_allowance(&self) -> Result<MintAllowance, EvmError> {
        let a = self.settlement.mintAllowance().call().await.map_err(EvmError::from_call)?;
        Ok(MintAllowance { remaining: a.remaining, period_ends_at: a.periodEndsAt })
    }

    /// Whether batch `batch_id` is posted.
    pub async fn is_posted(&self, batch_id: u64) -> Result<bool, EvmError> {
        self.settlement.isPosted(batch_id).call().await.map_err(EvmError::from_call)
    }

    /// The batch as recorded on chain (zero root when not posted).
    pub async fn batch(&self, batch_id: u64) -> Result<PostedBatch, EvmError> {
        let b = self.settlement.batches(batch_id).call().await.map_err(EvmError::from_call)?;
        Ok(PostedBatch { root: b.root, total: U256::from(b.total), claimed: U256::from(b.claimed), count: b.count })
    }

    /// Whether leaf `index` of batch `batch_id` is claimed.
    pub async fn is_claimed(&self, batch_id: u64, index: u32) -> Result<bool, EvmError> {
        self.settlement.isClaimed(batch_id, index).call().await.map_err(EvmError::from_call)
    }

    /// The contract's signature threshold.
    pub async fn threshold(&self) -> Result<u32, EvmError> {
        self.settlement.threshold().call().await.map_err(EvmError::from_call)
    }

    /// Whether `account` is a registered attester.
    pub async fn is_attester(&self, account: Address) -> Result<bool, EvmError> {
        self.settlement.isAttester(account).call().await.map_err(EvmError::from_call)
    }

    /// Token balance of `account`, in base units.
    pub async fn balance_of(&self, account: Address) -> Result<U256, EvmError> {
        self.token.balanceOf(account).call().await.map_err(EvmError::from_call)
    }

    /// Posts `batch` with `signatures`, which must be ordered by signer ascending (see
    /// [`attest::order_by_signer`]). When several relayers race, the losers get
    /// [`PostOutcome::AlreadyPosted`], whether the contract refused them at gas estimation or their
    /// transaction reverted on chain; a batch id posted with a different root is
    /// [`EvmError::ConflictingBatch`].
    pub async fn post_batch(&self, batch: &Batch, signatures: &[Signature]) -> Result<PostOutcome, EvmError> {
        let signatures: Vec<Bytes> = signatures.iter().map(|s| Bytes::from(s.as_bytes().to_vec())).collect();
        let call = self.settlement.postBatch(
            batch.sourceChain,
            batch.sourceBridge,
            batch.batchId,
            batch.root,
            batch.total,
            batch.count,
            signatures,
        );
        let sent = {
            let _guard = self.send_lock.lock().await;
            call.send().await
        };
        let result = match sent {
            Ok(pending) => wait(pending, &self.config).await.map(|r| outcome(&r)),
            Err(error) => Err(EvmError::from_call(error)),
        };
        match result {
            Ok(tx) => Ok(PostOutcome::Posted(tx)),
            Err(EvmError::Settlement(ArenaSettlementErrors::BatchAlreadyPosted(_)))
            | Err(EvmError::Reverted { .. })
                if self.is_posted(batch.batchId).await? =>
            {
                let posted = self.batch(batch.batchId).await?.root;
                // Root equality is enough here: the caller compares root, total and count again
                // before it confirms anything on the bridge.
                if posted == batch.root {
                    tracing::info!(batch_id = batch.batchId, "batch already posted by another relayer");
                    Ok(PostOutcome::AlreadyPosted)
                } else {
                    Err(EvmError::ConflictingBatch { batch_id: batch.batchId, posted, ours: batch.root })
                }
            }
            // Refused as posted while the latest block does not hold the post yet: gas was estimated
            // against the pending block, where another relayer's post waits to be mined.
            Err(EvmError::Settlement(ArenaSettlementErrors::BatchAlreadyPosted(_))) => {
                tracing::info!(batch_id = batch.batchId, "another relayer's post of this batch is pending");
                Ok(PostOutcome::AlreadyPosted)
            }
            Err(error) => Err(error),
        }
    }

    /// Claims `leaf` with its Merkle `proof`; the tokens go to `leaf.recipient`, whoever sends.
    pub async fn claim(&self, leaf: &ClaimLeaf, proof: &[B256]) -> Result<TxOutcome, EvmError> {
        let call = self.settlement.claim(leaf.batch_id, leaf.index, leaf.recipient, leaf.amount, proof.to_vec());
        let pending = {
            let _guard = self.send_lock.lock().await;
            call.send().await.map_err(EvmError::from_call)?
        };
        wait(pending, &self.config).await.map(|r| outcome(&r))
    }

    /// Proposes adding and removing attesters and setting the threshold (owner only); executable
    /// with [`Self::execute_attester_update`] once the contract's timelock delay has passed.
    pub async fn propose_attester_update(
        &self,
        add: &[Address],
        remove: &[Address],
        threshold: u32,
    ) -> Result<TxOutcome, EvmError> {
        let call = self.settlement.proposeAttesterUpdate(add.to_vec(), remove.to_vec(), threshold);
        let pending = {
            let _guard = self.send_lock.lock().await;
            call.send().await.map_err(EvmError::from_call)?
        };
        wait(pending, &self.config).await.map(|r| outcome(&r))
    }

    /// Executes a proposed attester-set change whose delay has passed (owner only).
    pub async fn execute_attester_update(
        &self,
        add: &[Address],
        remove: &[Address],
        threshold: u32,
    ) -> Result<TxOutcome, EvmError> {
        let call = self.settlement.executeAttesterUpdate(add.to_vec(), remove.to_vec(), threshold);
        let pending = {
            let _guard = self.send_lock.lock().await;
            call.send().await.map_err(EvmError::from_call)?
        };
        wait(pending, &self.config).await.map(|r| outcome(&r))
    }
}

/// An HTTP provider that signs with `signer`, checked to serve `config.chain_id`.
async fn connect_provider(config: &EvmConfig, signer: PrivateKeySigner) -> Result<DynProvider, EvmError> {
    let url = config
        .rpc_url
        .parse::<Url>()
        .map_err(|e| EvmError::InvalidRpcUrl { url: config.rpc_url.clone(), reason: e.to_string() })?;
    // Nonces come from the node's pending count on every send (SimpleNonceManager), never from a
    // local counter: alloy's cached manager advances even when a send is refused at gas
    // estimation (a lost post race, a bad claim), and the gap it leaves blocks every later
    // transaction of the key. `EvmClient::send_lock` keeps this client's own sends apart.
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased();
    provider.client().set_poll_interval(config.poll_interval);
    let actual = provider.get_chain_id().await?;
    if actual != config.chain_id {
        return Err(EvmError::WrongChain { expected: config.chain_id, actual });
    }
    Ok(provider)
}

/// Waits for `config.confirmations` and the receipt; a reverted transaction is an error.
async fn wait(
    pending: PendingTransactionBuilder<alloy::network::Ethereum>,
    config: &EvmConfig,
) -> Result<TransactionReceipt, EvmError> {
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .with_required_confirmations(config.confirmations)
        .with_timeout(Some(config.receipt_timeout))
        .get_receipt()
        .await
        .map_err(|source| EvmError::Pending { tx_hash, source })?;
    if !receipt.status() {
        return Err(EvmError::Reverted { tx_hash, block_number: receipt.block_number });
    }
    Ok(receipt)
}

fn outcome(receipt: &TransactionReceipt) -> TxOutcome {
    TxOutcome {
        tx_hash: receipt.transaction_hash,
        block_number: receipt.block_number.unwrap_or_default(),
        gas_used: receipt.gas_used,
    }
}
