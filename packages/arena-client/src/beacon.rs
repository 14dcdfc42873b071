//! The task creator's beacon secret: 32 random bytes whose hash chain seeds each round's
//! validator sampling ([`arena_types::market::commitment::beacon_value`]).
//!
//! The task publishes only the anchor `H^rounds(secret)`; round r's value `H^(rounds - r)(secret)`
//! is revealed once r's stakes are frozen. Whoever holds the secret can reveal; whoever learns it
//! early can predict sampling, so it lives in a file only its owner may read (mode 0600), named
//! by the task: `task-<id>-beacon.secret`, beside the network's manifest by convention
//! (`testnet create-task` writes it there, the creator node reads it from there by default).

use std::fmt;
use std::path::{Path, PathBuf};

use arena_types::market::commitment::beacon_value;

use arena_config::{read_private_file, write_private_file_new};

use crate::error::ClientError;

/// A beacon secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct BeaconSecret([u8; 32]);

impl BeaconSecret {
    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the OS has randomness");
        BeaconSecret(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        BeaconSecret(bytes)
    }

    /// The anchor a task of `rounds` rounds commits to (`TaskParams::beacon`).
    pub fn anchor(&self, rounds: u32) -> [u8; 32] {
        beacon_value(&self.0, rounds, 0)
    }

    /// The value revealed for `round` (1-based) of a task of `rounds` rounds.
    pub fn value(&self, rounds: u32, round: u32) -> [u8; 32] {
        beacon_value(&self.0, rounds, round)
    }

    /// The conventional file name of task `task_id`'s secret.
    pub fn file_name(task_id: u64) -> String {
        format!("task-{task_id}-beacon.secret")
    }

    /// `dir`/[`BeaconSecret::file_name`].
    pub fn path_in(dir: &Path, task_id: u64) -> PathBuf {
        dir.join(Self::file_name(task_id))
    }

    /// Writes the secret as hex to a new file of mode 0600 (an existing file is never replaced:
    /// it may be another task's secret), and syncs it to disk.
    pub fn write_new(&self, path: &Path) -> Result<(), ClientError> {
        write_private_file_new(path, &format!("{}\n", hex::encode(self.0)))
            .map_err(|e| ClientError::Key(format!("beacon secret {e}")))
    }

    /// Reads a secret file written by [`BeaconSecret::write_new`] (64 hex digits, optionally
    /// `0x`-prefixed); refused if group or others may read it.
    pub fn read(path: &Path) -> Result<Self, ClientError> {
        let text = read_private_file(path).map_err(|e| ClientError::Key(format!("beacon secret {e}")))?;
        let text = text.trim();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.strip_prefix("0x").unwrap_or(text), &mut bytes)
            .map_err(|e| ClientError::Key(format!("beacon secret {}: not 32 bytes of hex ({e})", path.display())))?;
        Ok(BeaconSecret(bytes))
    }
}

impl fmt::Debug for BeaconSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BeaconSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_types::market::commitment::beacon_follows;

    #[test]
    fn values_follow_the_anchor_round_by_round() {
        let secret = BeaconSecret::from_bytes([3u8; 32]);
        let anchor = secret.anchor(4);
        let mut known = (anchor, 0);
        for round in 1..=4 {
            let value = secret.value(4, round);
            assert!(beacon_follows(&known.0, known.1, &value, round), "round {round}");
            known = (value, round);
        }
        assert_ne!(BeaconSecret::generate().anchor(4), anchor);
    }

    #[test]
    fn the_file_round_trips_is_private_and_is_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = BeaconSecret::path_in(dir.path(), 7);
        assert!(path.ends_with("task-7-beacon.secret"));
        let secret = BeaconSecret::generate();
        secret.write_new(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(BeaconSecret::read(&path).unwrap(), secret);
        assert!(BeaconSecret::generate().write_new(&path).is_err(), "an existing secret is kept");
        assert_eq!(format!("{secret:?}"), "BeaconSecret(..)");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = BeaconSecret::read(&path).unwrap_err();
        assert!(matches!(err, ClientError::Key(ref m) if m.contains("chmod 600")), "{err}");
    }
}
