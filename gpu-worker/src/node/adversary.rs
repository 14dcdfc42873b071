//! FOR DEMONSTRATIONS ONLY: trainers that cheat, so that `testnet demo` can show what the market
//! does to them. Never configure one on a real network.
//!
//! - [`TrainerAdversary::Copycat`]: from round 2 on, submits the very file that ranked first in
//!   the round before, fetched from its public URI, under a commitment of its own. The market
//!   marks it `Duplicate`: the hash was revealed earlier by another trainer.
//! - [`TrainerAdversary::EvalThief`]: before training, tries to read every round's evaluation
//!   shard. The ciphertexts are public; a shard opens only once its round's key is on chain, which
//!   is after every model of that round is sealed and revealed. It trains on the training set plus
//!   whatever opened (earlier rounds' shards, which no longer score anything), and records each
//!   attempt in `state_dir/theft.json` for the demo's report.

use arena_client::shard::decrypt_shard;
use arena_types::market::msg::{ModelMetadata, SubmissionResponse, TaskResponse};
use serde::{Deserialize, Serialize};

use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::journal::write_durably;
use crate::{CsvOptions, Dataset};

pub use arena_config::worker::TrainerAdversary;

/// The file (and its metadata) that ranked first in `round - 1`, fetched from its public URI with
/// its hash checked; None in round 1, and while that round is not finalized.
pub async fn previous_winner(
    node: &Node,
    task: &TaskResponse,
    round: u32,
) -> Result<Option<(Vec<u8>, ModelMetadata)>, NodeError> {
    let Some(previous) = round.checked_sub(1).filter(|r| *r >= 1) else {
        return Ok(None);
    };
    if !node.market.round(task.id, previous).await?.finalized {
        return Ok(None);
    }
    let page = node.market.submissions(task.id, previous, None, 100).await?;
    let Some(SubmissionResponse { id, model: Some(model), .. }) =
        page.submissions.into_iter().find(|s| s.rank == Some(0))
    else {
        return Ok(None);
    };
    let path = node.store.fetch(&model.uri, &model.sha256.to_hex(), task.params.model.max_file_bytes).await?;
    let bytes = std::fs::read(&path).map_err(|e| NodeError::Data { uri: model.uri.clone(), reason: e.to_string() })?;
    let original = model.metadata.notes.as_deref().and_then(|n| n.split_whitespace().next()).unwrap_or("?");
    tracing::warn!(task = task.id, round, copied = id, sha256 = %model.sha256, "copycat: submitting round {previous}'s winner as its own");
    let metadata = ModelMetadata { notes: Some(format!("{original} copied from submission {id}")), ..model.metadata };
    Ok(Some((bytes, metadata)))
}

/// One try of the eval thief at one shard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TheftAttempt {
    /// The round the thief was training for.
    pub round: u32,
    /// The shard it tried to read.
    pub shard_round: u32,
    /// The chain's height when it tried.
    pub height: u64,
    /// Whether the shard's key was on chain then.
    pub key_on_chain: bool,
    /// Rows it read, when the shard opened.
    pub opened_rows: Option<usize>,
}

/// Tries to open every shard of the task; returns those that opened (keys already revealed) and
/// records every attempt.
pub async fn steal_shards(node: &Node, task: &TaskResponse, round: u32) -> Result<Vec<Dataset>, NodeError> {
    let height = node.market.client().latest_height().await?;
    let mut opened = Vec::new();
    let mut attempts = Vec::new();
    for (shard_round, shard) in (1..).zip(&task.params.evaluation) {
        let sealed = node.fetch_shard(task.id, shard_round, shard).await?;
        let key = node.market.round(task.id, shard_round).await?.evaluation_key;
        // Without the key, the one thing to try is a guess; Poly1305 refuses it like any other.
        let guess = key.as_ref().and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok()).unwrap_or([0u8; 32]);
        let data = match decrypt_shard(&guess, shard_round, &sealed) {
            Ok(plain) => Some(read_shard(node, task.id, shard_round, &plain)?),
            Err(e) => {
                tracing::warn!(task = task.id, round, shard_round, height, %e, "eval thief: the shard stays sealed");
                None
            }
        };
        attempts.push(TheftAttempt {
            round,
            shard_round,
            height,
            key_on_chain: key.is_some(),
            opened_rows: data.as_ref().map(|d| d.rows),
        });
        opened.extend(data);
    }
    record(node, &attempts)?;
    tracing::warn!(task = task.id, round, opened = opened.len(), "eval thief: training on the shards that opened");
    Ok(opened)
}

/// Parses an opened shard through a file under the state folder, as validators do.
fn read_shard(node: &Node, task_id: u64, round: u32, plain: &[u8]) -> Result<Dataset, NodeError> {
    let path = node.opened_shard_path(task_id, round);
    std::fs::write(&path, plain)
        .map_err(|e| NodeError::Data { uri: path.display().to_string(), reason: e.to_string() })?;
    Ok(Dataset::from_csv(&path, &CsvOptions::default())?)
}

/// Adds `attempts` to `state_dir/theft.json`: every attempt so far, as a JSON list.
fn record(node: &Node, attempts: &[TheftAttempt]) -> Result<(), NodeError> {
    let path = node.config.state_dir.join("theft.json");
    let mut all: Vec<TheftAttempt> = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| NodeError::journal(&path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(NodeError::journal(&path, e)),
    };
    all.extend_from_slice(attempts);
    write_durably(&node.config.state_dir, &path, &serde_json::to_vec_pretty(&all).expect("attempts serialize"))
}
