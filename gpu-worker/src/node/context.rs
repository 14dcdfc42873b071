//! What the roles share: the connection to the market, joining the task, and the task's data.

use std::path::PathBuf;
use std::time::Duration;

use crate::{CsvOptions, Dataset};
use arena_client::{Blocks, Client, Manifest, MarketClient, Signer};
use arena_types::market::msg::{DataCommitment, ParticipantResponse, QueryMsg, Role, TaskResponse};

use crate::node::config::{NodeConfig, NodeRole};
use crate::node::error::NodeError;
use crate::node::store::{sha256_file, ModelStore};

/// A node's view of its task: who it is, where the chain is, where its files are.
pub struct Node {
    pub config: NodeConfig,
    pub signer: Signer,
    pub market: MarketClient,
    pub store: ModelStore,
    /// The chain's CometBFT RPC, whose websocket announces new blocks.
    pub rpc_url: String,
}

impl Node {
    /// Reads the manifest, connects to the chain and opens the model store.
    pub async fn connect(config: NodeConfig) -> Result<Self, NodeError> {
        let manifest = Manifest::read(&config.manifest)?;
        let signer = config.signer(&manifest.chain.bech32_prefix)?;
        let client = Client::connect(manifest.chain.clone()).await?;
        let market = MarketClient::new(
            client,
            &manifest.contract("arena-market")?.address,
            &manifest.contract("arena-token")?.address,
        );
        let store = ModelStore::open(config.state_dir.join("models"))?;
        Ok(Node { config, signer, market, store, rpc_url: manifest.endpoints.rpc })
    }

    pub fn address(&self) -> String {
        self.signer.address().to_string()
    }

    pub fn task_id(&self) -> u64 {
        self.config.task_id
    }

    /// Starts following new blocks, for a loop that acts once per block.
    pub fn follow_blocks(&self) -> Blocks {
        Blocks::follow(&self.rpc_url)
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
        Ok(Dataset::from_csv(&path, &CsvOptions::default())?)
    }

    fn resolve(&self, uri: &str) -> Result<PathBuf, NodeError> {
        let path = uri.strip_prefix("file://").ok_or_else(|| NodeError::Data {
            uri: uri.into(),
            reason: "only file:// data sets are supported; download it and point data_root at it".into(),
        })?;
        Ok(self.config.data_root.join(path))
    }
}
