//! The nodes' journals: what a node commits to on chain is written to disk (and synced) before
//! the commitment is sent, so a node that crashes between commitment and reveal still reveals
//! after a restart.
//!
//! - [`Journal`]: a validator's scores, baselines and salts. Losing a salt would mean a liveness
//!   slash.
//! - [`SealJournal`]: a trainer's sealed model of each round (hash, URI, metadata, salt). Losing
//!   it would forfeit the round: an unopened commitment earns nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use arena_types::market::msg::ModelMetadata;
use serde::{Deserialize, Serialize};

use crate::node::error::NodeError;

/// One committed (or about to be committed) score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReveal {
    pub submission_id: u64,
    pub score: u32,
    /// The round's baseline as this validator measured it on the shard (majority-class accuracy
    /// in ppm); 0 in journals written before baselines existed.
    #[serde(default)]
    pub baseline: u32,
    /// 32 bytes, hex.
    pub salt: String,
    /// Why the model scored 0 without being evaluated, if it did.
    pub rejected: Option<String>,
}

impl PendingReveal {
    pub fn salt_bytes(&self) -> [u8; 32] {
        hex_32(&self.salt)
    }
}

/// One JSON file per task and round under the journal folder.
#[derive(Clone, Debug)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, NodeError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| NodeError::journal(&dir, e))?;
        Ok(Journal { dir })
    }

    fn path(&self, task_id: u64, round: u32) -> PathBuf {
        self.dir.join(format!("task-{task_id}-round-{round}.json"))
    }

    /// Everything recorded for a round, by submission id.
    pub fn load(&self, task_id: u64, round: u32) -> Result<BTreeMap<u64, PendingReveal>, NodeError> {
        let path = self.path(task_id, round);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| NodeError::journal(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(NodeError::journal(&path, e)),
        }
    }

    /// Adds `entries` to the round's record durably (old or new, never torn).
    pub fn record(&self, task_id: u64, round: u32, entries: &[PendingReveal]) -> Result<(), NodeError> {
        let mut all = self.load(task_id, round)?;
        for e in entries {
            all.insert(e.submission_id, e.clone());
        }
        let path = self.path(task_id, round);
        write_durably(&self.dir, &path, &serde_json::to_vec_pretty(&all).expect("journal entries serialize"))
    }
}

/// A trainer's sealed model of one round: what opens its commitment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedModel {
    pub round: u32,
    /// sha256 of the model file, hex.
    pub model_sha256: String,
    pub uri: String,
    pub metadata: ModelMetadata,
    /// 32 bytes, hex.
    pub salt: String,
}

impl SealedModel {
    pub fn salt_bytes(&self) -> [u8; 32] {
        hex_32(&self.salt)
    }

    pub fn sha256_bytes(&self) -> [u8; 32] {
        hex_32(&self.model_sha256)
    }
}

/// The journal holds only what this node wrote: 32-byte hex it drew or hashed itself.
fn hex_32(text: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).expect("the journal holds 32-byte hex");
    bytes
}

/// One JSON file per task and round under the trainer's journal folder.
#[derive(Clone, Debug)]
pub struct SealJournal {
    dir: PathBuf,
}

impl SealJournal {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, NodeError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| NodeError::journal(&dir, e))?;
        Ok(SealJournal { dir })
    }

    fn path(&self, task_id: u64, round: u32) -> PathBuf {
        self.dir.join(format!("task-{task_id}-round-{round}.json"))
    }

    /// The round's sealed model, if this node sealed one.
    pub fn load(&self, task_id: u64, round: u32) -> Result<Option<SealedModel>, NodeError> {
        let path = self.path(task_id, round);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| NodeError::journal(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NodeError::journal(&path, e)),
        }
    }

    /// Records the round's sealed model durably, before its commitment is sent.
    pub fn record(&self, task_id: u64, sealed: &SealedModel) -> Result<(), NodeError> {
        let path = self.path(task_id, sealed.round);
        write_durably(&self.dir, &path, &serde_json::to_vec_pretty(sealed).expect("a sealed model serializes"))
    }
}

/// Writes `bytes` to `path` so that it is either the old file or the new one, never torn:
/// written to a temporary file, synced, renamed over the old one, and the folder synced.
pub(crate) fn write_durably(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), NodeError> {
    let tmp = path.with_extension("json.tmp");
    let err = |e: std::io::Error| NodeError::journal(path, e);
    let mut file = std::fs::File::create(&tmp).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    sync_dir(dir).map_err(err)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, score: u32) -> PendingReveal {
        PendingReveal { submission_id: id, score, baseline: 100_000, salt: "11".repeat(32), rejected: None }
    }

    #[test]
    fn a_journal_from_before_baselines_reads_with_baseline_zero() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{"3":{"submission_id":3,"score":5,"salt":"ab","rejected":null}}"#;
        std::fs::write(dir.path().join("task-1-round-2.json"), old).unwrap();
        let all = Journal::open(dir.path()).unwrap().load(1, 2).unwrap();
        assert_eq!((all[&3].score, all[&3].baseline), (5, 0));
    }

    #[test]
    fn a_sealed_model_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = SealedModel {
            round: 2,
            model_sha256: "22".repeat(32),
            uri: "file:///m.safetensors".into(),
            metadata: ModelMetadata { family: "mlp".into(), parameters: 650, file_bytes: 3_000, notes: None },
            salt: "33".repeat(32),
        };
        SealJournal::open(dir.path()).unwrap().record(9, &sealed).unwrap();
        let reopened = SealJournal::open(dir.path()).unwrap();
        assert_eq!(reopened.load(9, 2).unwrap(), Some(sealed.clone()));
        assert_eq!(reopened.load(9, 3).unwrap(), None);
        assert_eq!((sealed.salt_bytes(), sealed.sha256_bytes()), ([0x33; 32], [0x22; 32]));
    }

    #[test]
    fn records_survive_reopening_and_merge() {
        let dir = tempfile::tempdir().unwrap();
        Journal::open(dir.path()).unwrap().record(7, 1, &[entry(1, 900_000)]).unwrap();
        let reopened = Journal::open(dir.path()).unwrap();
        reopened.record(7, 1, &[entry(2, 800_000)]).unwrap();
        let all = reopened.load(7, 1).unwrap();
        assert_eq!(all.values().cloned().collect::<Vec<_>>(), vec![entry(1, 900_000), entry(2, 800_000)]);
        assert!(reopened.load(7, 2).unwrap().is_empty());
    }
}
