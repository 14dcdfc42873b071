//! The validator's journal: every score and salt it commits to is written to disk (and synced)
//! before the commit is sent, so a validator that crashes between commit and reveal still
//! reveals after a restart. Losing the salt would mean a liveness slash.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::node::error::NodeError;

/// One committed (or about to be committed) score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReveal {
    pub submission_id: u64,
    pub score: u32,
    /// 32 bytes, hex.
    pub salt: String,
    /// Why the model scored 0 without being evaluated, if it did.
    pub rejected: Option<String>,
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

    /// Adds `entries` to the round's record durably: written to a temporary file, synced, renamed
    /// over the old one, and the folder synced, so the record is either old or new, never torn.
    pub fn record(&self, task_id: u64, round: u32, entries: &[PendingReveal]) -> Result<(), NodeError> {
        let mut all = self.load(task_id, round)?;
        for e in entries {
            all.insert(e.submission_id, e.clone());
        }
        let path = self.path(task_id, round);
        let tmp = path.with_extension("json.tmp");
        let err = |e: std::io::Error| NodeError::journal(&path, e);
        let mut file = std::fs::File::create(&tmp).map_err(err)?;
        file.write_all(&serde_json::to_vec_pretty(&all).expect("journal entries serialize")).map_err(err)?;
        file.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
        sync_dir(&self.dir).map_err(err)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, score: u32) -> PendingReveal {
        PendingReveal { submission_id: id, score, salt: "11".repeat(32), rejected: None }
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
