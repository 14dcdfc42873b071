//! What the roles share: the connection to the market, joining the task, and the task's data.

use std::path::PathBuf;
use std::time::Duration;

use crate::lm::{ChatData, GptSpec, GptWeights, Tokenizer};
use crate::{CsvOptions, Dataset};
use arena_client::{Blocks, Client, Manifest, MarketClient, Signer};
use arena_types::market::msg::{
    DataCommitment, EvaluationShard, LanguageModelTask, ParticipantResponse, QueryMsg, Role, TaskResponse,
};

use crate::node::config::{self, NodeConfig, NodeRole};
use crate::node::error::NodeError;
use crate::node::lm::TaskBase;
use crate::node::store::{sha256_file, ModelStore};

/// The largest evaluation shard a validator fetches.
pub const MAX_SHARD_BYTES: u64 = 256 * 1024 * 1024;

/// The largest base model a language-model node fetches.
pub const MAX_BASE_BYTES: u64 = 1024 * 1024 * 1024;

/// The largest tokenizer.json a language-model node fetches (GPT-2's is 1.4 MB).
pub const MAX_TOKENIZER_BYTES: u64 = 64 * 1024 * 1024;

/// A node's view of its task: who it is, where the chain is, where its files are.
pub struct Node {
    pub config: NodeConfig,
    pub signer: Signer,
    pub market: MarketClient,
    pub store: ModelStore,
    /// The chain's CometBFT RPCs (one per node), whose websockets announce new blocks.
    pub rpc_urls: Vec<String>,
}

impl Node {
    /// Reads the manifest, connects to the chain and opens the model store.
    pub async fn connect(config: NodeConfig) -> Result<Self, NodeError> {
        let manifest = Manifest::read(&config.manifest)?;
        let signer = config::signer(&config, &manifest.chain.bech32_prefix)?;
        let mut chain = manifest.chain.clone();
        if let Some((first, rest)) = config.grpc_urls.split_first() {
            (chain.grpc_url, chain.grpc_urls) = (first.clone(), rest.to_vec());
        }
        let client = Client::connect(chain).await?;
        let market = MarketClient::new(
            client,
            &manifest.contract("arena-market")?.address,
            &manifest.contract("arena-token")?.address,
        );
        let store = ModelStore::open(config.state_dir.join("models"))?;
        let rpc_urls = if config.rpc_urls.is_empty() { manifest.endpoints.rpc_urls() } else { config.rpc_urls.clone() };
        Ok(Node { config, signer, market, store, rpc_urls })
    }

    pub fn address(&self) -> String {
        self.signer.address().to_string()
    }

    pub fn task_id(&self) -> u64 {
        self.config.task_id
    }

    /// Starts following new blocks, for a loop that acts once per block.
    pub fn follow_blocks(&self) -> Blocks {
        Blocks::follow_any(&self.rpc_urls)
    }

    /// The longest a loop waits for a block before looking at the chain anyway (no websocket).
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.config.poll_ms)
    }

    pub async fn task(&self) -> Result<TaskResponse, NodeError> {
        Ok(self.market.task(self.task_id()).await?)
    }

    /// This node's participant record, or None if it has not joined.
    pub async fn participant(&self) -> Result<Option<ParticipantResponse>, NodeError> {
        let query = QueryMsg::Participant { task_id: self.task_id(), address: self.address() };
        match self.market.query::<ParticipantResponse>(&query).await {
            Ok(p) => Ok(Some(p)),
            Err(arena_client::ClientError::Query(m)) if m.contains("not found") => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Joins the task in the configured role unless already in it; a node registered in the
    /// other role is an error (one role per address per task).
    pub async fn ensure_joined(&self, task: &TaskResponse) -> Result<(), NodeError> {
        let role = match self.config.role {
            NodeRole::Trainer => Role::Trainer,
            NodeRole::Validator => Role::Validator,
            // A creator holds no stake.
            NodeRole::Creator => return Ok(()),
        };
        match self.participant().await? {
            Some(p) if p.role == role => Ok(()),
            Some(p) => Err(NodeError::Task {
                task_id: self.task_id(),
                reason: format!(
                    "{} is already a {:?} of this task; use another key for the {role:?} role",
                    self.address(),
                    p.role
                ),
            }),
            None => {
                let minimum = match role {
                    Role::Trainer => task.params.min_trainer_stake,
                    Role::Validator => task.params.min_validator_stake,
                };
                let amount = self.config.stake.map_or(minimum.u128(), u128::from);
                self.market.stake(&self.signer, self.task_id(), role, amount).await?;
                tracing::info!(task = self.task_id(), ?role, amount, "joined the task");
                Ok(())
            }
        }
    }

    /// Loads one of the task's data sets, refusing a file whose sha256 is not the task's.
    pub fn load_data(&self, commitment: &DataCommitment) -> Result<Dataset, NodeError> {
        let path = self.checked_data(commitment)?;
        Ok(Dataset::from_csv(&path, &CsvOptions::default())?)
    }

    /// Loads a language-model task's chat data (ShareGPT JSONL, or plain text), refusing a file
    /// whose sha256 is not the task's.
    pub fn load_chat(&self, commitment: &DataCommitment) -> Result<ChatData, NodeError> {
        let path = self.checked_data(commitment)?;
        Ok(ChatData::from_file(&path)?)
    }

    /// A language-model task's base model and tokenizer: each fetched by its URI (a `file://`
    /// one resolved as data sets are) into the model store with its sha256 checked; the weights
    /// parsed as the task's architecture, the tokenizer (bytes when the task names none) checked
    /// against its vocabulary. An error here is the task's (its creator's), not the node's.
    pub async fn fetch_base(&self, lm: &LanguageModelTask) -> Result<TaskBase, NodeError> {
        let path = self.fetch_committed(&lm.base, MAX_BASE_BYTES).await?;
        let spec = GptSpec::parse(&lm.architecture)?;
        let bytes = std::fs::read(&path).map_err(|e| crate::Error::io(&path, &e))?;
        let weights = GptWeights::from_safetensors(&spec, &bytes, &path)?;
        let tokenizer = match &lm.tokenizer {
            Some(commitment) => Tokenizer::from_file(&self.fetch_committed(commitment, MAX_TOKENIZER_BYTES).await?)?,
            None => Tokenizer::Bytes,
        };
        tokenizer.check_vocab(&spec, &path)?;
        Ok(TaskBase { weights, tokenizer })
    }

    /// A file the task commits to, in the model store with its sha256 checked.
    async fn fetch_committed(&self, commitment: &DataCommitment, max_bytes: u64) -> Result<PathBuf, NodeError> {
        let uri = self.store_uri(&commitment.uri)?;
        Ok(self.store.fetch(&uri, &commitment.sha256.to_hex(), max_bytes).await?)
    }

    /// The path of one of the task's data sets once its sha256 is checked.
    fn checked_data(&self, commitment: &DataCommitment) -> Result<PathBuf, NodeError> {
        let path = self.resolve(&commitment.uri)?;
        let expected = commitment.sha256.to_hex();
        let found = sha256_file(&path).ok_or_else(|| NodeError::Data {
            uri: commitment.uri.clone(),
            reason: format!("cannot read {}", path.display()),
        })?;
        if found != expected {
            return Err(NodeError::DataMismatch {
                task_id: self.task_id(),
                uri: commitment.uri.clone(),
                expected,
                found,
            });
        }
        Ok(path)
    }

    /// Round `round`'s sealed evaluation shard, fetched once and kept under the state folder. Its
    /// bytes are checked only when they are decrypted (the task commits to the plaintext).
    pub async fn fetch_shard(&self, task_id: u64, round: u32, shard: &EvaluationShard) -> Result<Vec<u8>, NodeError> {
        let cached = self.shard_path(task_id, round, "enc");
        if let Ok(bytes) = std::fs::read(&cached) {
            return Ok(bytes);
        }
        let bytes = self.store.read_uri(&self.store_uri(&shard.uri)?, MAX_SHARD_BYTES).await?;
        let io = |e: std::io::Error| NodeError::Data { uri: shard.uri.clone(), reason: format!("caching it: {e}") };
        let tmp = cached.with_extension("partial");
        std::fs::write(&tmp, &bytes).map_err(io)?;
        std::fs::rename(&tmp, &cached).map_err(io)?;
        tracing::info!(round, uri = %shard.uri, bytes = bytes.len(), "fetched the sealed evaluation shard");
        Ok(bytes)
    }

    /// Drops a cached sealed shard that did not open, so that the next look fetches it again.
    pub fn forget_shard(&self, task_id: u64, round: u32) {
        std::fs::remove_file(self.shard_path(task_id, round, "enc")).ok();
    }

    /// Where a validator keeps round `round`'s decrypted shard (public once its key is revealed).
    pub fn opened_shard_path(&self, task_id: u64, round: u32) -> PathBuf {
        self.shard_path(task_id, round, "csv")
    }

    fn shard_path(&self, task_id: u64, round: u32, extension: &str) -> PathBuf {
        let dir = self.config.state_dir.join("shards");
        std::fs::create_dir_all(&dir).ok();
        dir.join(format!("task-{task_id}-round-{round}.{extension}"))
    }

    /// A task's URI as the model store reads it: a `file://` one resolved under `data_root` as
    /// data sets are, any other unchanged.
    fn store_uri(&self, uri: &str) -> Result<String, NodeError> {
        match uri.strip_prefix("file://") {
            Some(_) => Ok(format!("file://{}", self.resolve(uri)?.display())),
            None => Ok(uri.to_string()),
        }
    }

    fn resolve(&self, uri: &str) -> Result<PathBuf, NodeError> {
        let path = uri.strip_prefix("file://").ok_or_else(|| NodeError::Data {
            uri: uri.into(),
            reason: "only file:// data sets are supported; download it and point data_root at it".into(),
        })?;
        Ok(self.config.data_root.join(path))
    }
}
