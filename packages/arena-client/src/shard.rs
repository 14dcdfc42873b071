//! Hidden evaluation shards: each round's evaluation data is published encrypted when the task is
//! created and becomes readable only when its creator reveals the round's key, after every model
//! of the round is sealed and revealed, so no trainer can train on what it will be scored on.
//!
//! A shard is sealed with ChaCha20-Poly1305 under a key of 32 random bytes drawn for that round
//! alone. The nonce is 12 zero bytes: a nonce must never repeat under one key, and each key
//! encrypts exactly one shard, once, so the pair (key, nonce) is never reused. The associated
//! data `b"arena-eval-shard" || round u32 BE` binds a ciphertext to its round: round 2's file
//! does not open as round 3's even under the right key.
//!
//! The creator keeps the keys in one file per task, `task-<id>-eval.keys` (one hex key per line,
//! round order, mode 0600), beside the task's beacon secret; the task commits to `sha256(key)`
//! of each ([`arena_types::market::commitment::evaluation_key_hash`]).

use std::fmt;
use std::path::{Path, PathBuf};

use arena_types::market::commitment::evaluation_key_hash;
use arena_types::market::msg::EvaluationShard;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use thiserror::Error;

use arena_config::{read_private_file, write_private_file_new};

use crate::error::ClientError;

/// The domain tag that starts every shard's associated data.
pub const SHARD_AAD_TAG: &[u8] = b"arena-eval-shard";

/// Why a shard did not open.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("evaluation shard of round {round} does not open with this key: wrong key, another round's shard, or a tampered file")]
    Undecryptable { round: u32 },
}

/// `SHARD_AAD_TAG || round u32 BE`.
fn associated_data(round: u32) -> Vec<u8> {
    let mut aad = SHARD_AAD_TAG.to_vec();
    aad.extend_from_slice(&round.to_be_bytes());
    aad
}

fn cipher(key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(key.into())
}

/// The all-zero nonce: sound only because each key seals exactly one shard, once (module docs).
const NONCE: [u8; 12] = [0u8; 12];

/// Seals round `round`'s plaintext shard under `key`: ciphertext followed by the 16-byte tag.
pub fn encrypt_shard(key: &[u8; 32], round: u32, plaintext: &[u8]) -> Vec<u8> {
    let aad = associated_data(round);
    cipher(key)
        .encrypt(&NONCE.into(), Payload { msg: plaintext, aad: &aad })
        .expect("ChaCha20-Poly1305 seals any message shorter than 256 GiB")
}

/// Opens round `round`'s sealed shard; a wrong key, another round's shard or any changed byte
/// is refused.
pub fn decrypt_shard(key: &[u8; 32], round: u32, ciphertext: &[u8]) -> Result<Vec<u8>, ShardError> {
    let aad = associated_data(round);
    cipher(key)
        .decrypt(&NONCE.into(), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| ShardError::Undecryptable { round })
}

/// A task creator's evaluation keys, one per round. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct EvaluationKeys(Vec<[u8; 32]>);

impl EvaluationKeys {
    /// Fresh keys for `rounds` rounds from the operating system's random source.
    pub fn generate(rounds: u32) -> Self {
        let keys = (0..rounds)
            .map(|_| {
                let mut key = [0u8; 32];
                getrandom::getrandom(&mut key).expect("the OS has randomness");
                key
            })
            .collect();
        EvaluationKeys(keys)
    }

    pub fn from_keys(keys: Vec<[u8; 32]>) -> Self {
        EvaluationKeys(keys)
    }

    pub fn rounds(&self) -> u32 {
        self.0.len() as u32
    }

    /// Round `round`'s key (1-based), if the file has that many.
    pub fn key(&self, round: u32) -> Option<&[u8; 32]> {
        round.checked_sub(1).and_then(|i| self.0.get(i as usize))
    }

    /// Whether these are the keys `shards` commit to, round by round; the error says which round
    /// differs.
    pub fn check(&self, task_id: u64, shards: &[EvaluationShard]) -> Result<(), ClientError> {
        if shards.len() != self.0.len() {
            return Err(ClientError::Key(format!(
                "the evaluation keys hold {} rounds, task {task_id} has {}: they are another task's keys",
                self.0.len(),
                shards.len()
            )));
        }
        for (i, (key, shard)) in self.0.iter().zip(shards).enumerate() {
            if shard.key_sha256.as_slice() != evaluation_key_hash(key) {
                return Err(ClientError::Key(format!(
                    "evaluation key of round {} does not hash to task {task_id}'s {}: they are another task's keys",
                    i + 1,
                    shard.key_sha256
                )));
            }
        }
        Ok(())
    }

    /// The conventional file name of task `task_id`'s keys.
    pub fn file_name(task_id: u64) -> String {
        format!("task-{task_id}-eval.keys")
    }

    /// `dir`/[`EvaluationKeys::file_name`].
    pub fn path_in(dir: &Path, task_id: u64) -> PathBuf {
        dir.join(Self::file_name(task_id))
    }

    /// Writes the keys as hex, one per line in round order, to a new file of mode 0600 (an
    /// existing file is never replaced), synced to disk.
    pub fn write_new(&self, path: &Path) -> Result<(), ClientError> {
        let text: String = self.0.iter().map(|k| format!("{}\n", hex::encode(k))).collect();
        write_private_file_new(path, &text).map_err(|e| ClientError::Key(format!("evaluation keys {e}")))
    }

    /// Reads a file written by [`EvaluationKeys::write_new`]; refused if group or others may read it.
    pub fn read(path: &Path) -> Result<Self, ClientError> {
        let text = read_private_file(path).map_err(|e| ClientError::Key(format!("evaluation keys {e}")))?;
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, line)| {
                let mut key = [0u8; 32];
                hex::decode_to_slice(line.strip_prefix("0x").unwrap_or(line), &mut key).map_err(|e| {
                    ClientError::Key(format!(
                        "evaluation keys {}: line {} is not 32 bytes of hex ({e})",
                        path.display(),
                        i + 1
                    ))
                })?;
                Ok(key)
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        Ok(EvaluationKeys(keys))
    }
}

impl fmt::Debug for EvaluationKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvaluationKeys({} rounds, ..)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::HexBinary;

    const SHARD: &[u8] = b"f0,f1,label\n0.1,0.2,3\n0.4,0.5,7\n";

    #[test]
    fn a_shard_round_trips_under_its_key_and_round() {
        let key = [7u8; 32];
        let sealed = encrypt_shard(&key, 2, SHARD);
        assert_eq!(sealed.len(), SHARD.len() + 16, "ciphertext plus the Poly1305 tag");
        assert!(!sealed.windows(5).any(|w| w == b"label"), "the plaintext does not show through");
        assert_eq!(decrypt_shard(&key, 2, &sealed).unwrap(), SHARD);
    }

    #[test]
    fn a_wrong_key_is_refused() {
        let sealed = encrypt_shard(&[7u8; 32], 1, SHARD);
        assert_eq!(decrypt_shard(&[8u8; 32], 1, &sealed), Err(ShardError::Undecryptable { round: 1 }));
    }

    #[test]
    fn any_tampered_byte_is_refused() {
        let key = [7u8; 32];
        let sealed = encrypt_shard(&key, 1, SHARD);
        for i in [0, SHARD.len() / 2, sealed.len() - 1] {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(decrypt_shard(&key, 1, &tampered), Err(ShardError::Undecryptable { round: 1 }), "byte {i}");
        }
        assert!(decrypt_shard(&key, 1, &sealed[..sealed.len() - 1]).is_err(), "a truncated file");
    }

    #[test]
    fn another_rounds_shard_does_not_open_as_this_one() {
        let key = [7u8; 32];
        let sealed = encrypt_shard(&key, 2, SHARD);
        assert_eq!(decrypt_shard(&key, 3, &sealed), Err(ShardError::Undecryptable { round: 3 }));
    }

    #[test]
    fn the_keys_file_round_trips_is_private_and_is_checked_against_the_task() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = EvaluationKeys::path_in(dir.path(), 7);
        assert!(path.ends_with("task-7-eval.keys"));
        let keys = EvaluationKeys::generate(3);
        keys.write_new(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let read = EvaluationKeys::read(&path).unwrap();
        assert_eq!(read, keys);
        assert_eq!((read.rounds(), read.key(0), read.key(4)), (3, None, None));
        assert!(EvaluationKeys::generate(3).write_new(&path).is_err(), "existing keys are kept");
        assert_eq!(format!("{keys:?}"), "EvaluationKeys(3 rounds, ..)");

        let shards: Vec<EvaluationShard> = (1..=3)
            .map(|r| EvaluationShard {
                uri: format!("file://shards/round-{r}.csv.enc"),
                sha256: HexBinary::from([0u8; 32]),
                key_sha256: HexBinary::from(evaluation_key_hash(keys.key(r).unwrap())),
            })
            .collect();
        keys.check(7, &shards).unwrap();
        let err = EvaluationKeys::generate(3).check(7, &shards).unwrap_err();
        assert!(matches!(err, ClientError::Key(ref m) if m.contains("round 1")), "{err}");
        assert!(keys.check(7, &shards[..2]).is_err());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = EvaluationKeys::read(&path).unwrap_err();
        assert!(matches!(err, ClientError::Key(ref m) if m.contains("chmod 600")), "{err}");
    }
}
