//! Task parameters for local tasks (classification, [`TaskSpec`], and language-model fine-tuning,
//! [`LmTaskSpec`]): data sets named by path (their sha256 computed here), the
//! evaluation set split into one hidden shard per round, sensible economics, phase lengths in
//! blocks, and the creator's beacon anchor. Used by `testnet create-task`, the demo and the chain
//! tests.
//!
//! The evaluation CSV is cut into `rounds` contiguous shards (a header line, if any, heads each);
//! each is sealed with a key of its own ([`arena_client::shard`]) and only the ciphertext is
//! written, under the network's home, where validators fetch it by a `file://` URI relative to
//! their `data_root` (the repository root). The plaintext never touches the disk: the task commits
//! to its sha256, and the creator's keys file opens each shard when its round's commit phase does.

use std::path::{Path, PathBuf};

use arena_client::shard::encrypt_shard;
use arena_client::{BeaconSecret, EvaluationKeys};
use arena_types::market::commitment::evaluation_key_hash;
use arena_types::market::msg::{
    DataCommitment, EvaluationShard, LanguageModelTask, Metric, ModelConstraints, Phases, TaskKind, TaskParams,
    LORA_FAMILY,
};
use arena_types::market::phase::Clock;
use cosmwasm_std::HexBinary;
use sha2::{Digest, Sha256};

use crate::contracts::sha256_file;
use crate::error::TestnetError;
use crate::repo;

/// Blocks of each phase of a round (~0.2 s each on the devnet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseBlocks {
    pub submission: u64,
    pub model_reveal: u64,
    pub commit: u64,
    pub reveal: u64,
}

impl PhaseBlocks {
    pub fn round_length(&self) -> u64 {
        self.submission + self.model_reveal + self.commit + self.reveal
    }
}

/// What a user chooses for a classification task; the rest takes the defaults of [`TaskSpec::params`].
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Training and evaluation CSV files, relative to the repository root (that is the workers'
    /// `data_root`) or absolute.
    pub train: PathBuf,
    pub eval: PathBuf,
    pub rounds: u32,
    pub phases: PhaseBlocks,
    pub validators_per_submission: u32,
}

/// What a user chooses for a language-model task: fine-tune LoRA adapters of at most
/// `max_lora_rank` and `max_trainable_params` over a fixed base, on ShareGPT chat, scored in bits
/// per byte of the assistant's text of each round's hidden shard ([`Metric::bits_per_byte`]).
#[derive(Clone, Debug)]
pub struct LmTaskSpec {
    /// Training and evaluation chat (ShareGPT JSONL, one conversation a line), relative to the
    /// repository root or absolute.
    pub train: PathBuf,
    pub eval: PathBuf,
    /// The base's `model.safetensors` (as `gpu-worker pretrain` writes it) and its architecture
    /// (`gpt:layers=..,d=..,heads=..,ctx=..`, what its config.json says).
    pub base: PathBuf,
    pub architecture: String,
    /// The base's `tokenizer.json` when it has one (`gpu-worker pretrain --tokenizer`): the task
    /// commits to it beside the base, so every node tokenizes alike. `None`: byte tokens.
    pub tokenizer: Option<PathBuf>,
    pub max_lora_rank: u32,
    pub max_trainable_params: u64,
    pub rounds: u32,
    pub phases: PhaseBlocks,
    pub validators_per_submission: u32,
}

impl LmTaskSpec {
    /// The task's parameters, as [`TaskSpec::params`] makes a classification task's: the same
    /// economics and phases; the evaluation chat cut into one sealed shard of whole conversations
    /// per round; submissions are adapters (family `lora`) of at most `max_trainable_params`,
    /// in files of at most 64 MB.
    pub fn params(
        &self,
        secret: &BeaconSecret,
        shard_dir: &Path,
    ) -> Result<(TaskParams, EvaluationKeys), TestnetError> {
        let p = self.phases;
        let path = repo::resolve(&self.eval);
        let text = std::fs::read_to_string(&path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let plain = split_rows(None, &lines, self.rounds).map_err(|reason| TestnetError::Data { path, reason })?;
        let sealed = seal_shards(&plain, shard_dir, "jsonl")?;
        let params = TaskParams {
            validators_per_submission: self.validators_per_submission,
            kind: TaskKind::LanguageModel(LanguageModelTask {
                base: commitment(&self.base)?,
                architecture: self.architecture.clone(),
                max_lora_rank: self.max_lora_rank,
                max_trainable_params: self.max_trainable_params,
                tokenizer: self.tokenizer.as_deref().map(commitment).transpose()?,
            }),
            ..TaskParams::with_defaults(
                Metric::bits_per_byte(),
                HexBinary::from(secret.anchor(self.rounds)),
                commitment(&self.train)?,
                sealed.shards,
                ModelConstraints {
                    family: LORA_FAMILY.into(),
                    max_parameters: self.max_trainable_params,
                    max_file_bytes: 64_000_000,
                },
                Phases {
                    clock: Clock::Height,
                    submission: p.submission,
                    model_reveal: p.model_reveal,
                    commit: p.commit,
                    reveal: p.reveal,
                    unbonding: 2 * p.round_length(),
                },
            )
        };
        Ok((params, sealed.keys))
    }
}

/// A task's hidden evaluation data: the shards as the task commits to them, and the keys that
/// open them (the creator keeps these, in [`EvaluationKeys::write_new`]'s file).
#[derive(Debug)]
pub struct SealedEvaluation {
    pub shards: Vec<EvaluationShard>,
    pub keys: EvaluationKeys,
}

impl TaskSpec {
    /// The vendored digits split: 1,438 training rows, 359 held-out rows from other writers.
    pub fn digits(rounds: u32, phases: PhaseBlocks) -> Self {
        TaskSpec {
            train: "data/digits-train.csv".into(),
            eval: "data/digits-eval.csv".into(),
            rounds,
            phases,
            validators_per_submission: 3,
        }
    }

    /// The task's parameters, anchored to the creator's beacon `secret` (draw it with
    /// [`BeaconSecret::generate`] and keep it: each round's sampling waits for its value), with
    /// its evaluation set sealed round by round into `shard_dir` (keep the returned keys: each
    /// round's validators wait for its key). Quorum is half the assigned stake and beta 1, the
    /// market's safest choices: below 1, stake split over many validator identities would be
    /// sampled more often than the same stake in one.
    pub fn params(
        &self,
        secret: &BeaconSecret,
        shard_dir: &Path,
    ) -> Result<(TaskParams, EvaluationKeys), TestnetError> {
        let p = self.phases;
        let sealed = seal_evaluation(&self.eval, self.rounds, shard_dir)?;
        let params = TaskParams {
            validators_per_submission: self.validators_per_submission,
            ..TaskParams::with_defaults(
                Metric {
                    name: "accuracy_ppm".into(),
                    description: format!(
                        "top-1 accuracy on round r's hidden shard of {}, in parts per million",
                        self.eval.display()
                    ),
                },
                HexBinary::from(secret.anchor(self.rounds)),
                commitment(&self.train)?,
                sealed.shards,
                ModelConstraints { family: "mlp".into(), max_parameters: 10_000_000, max_file_bytes: 64_000_000 },
                Phases {
                    clock: Clock::Height,
                    submission: p.submission,
                    model_reveal: p.model_reveal,
                    commit: p.commit,
                    reveal: p.reveal,
                    unbonding: 2 * p.round_length(),
                },
            )
        };
        Ok((params, sealed.keys))
    }
}

/// Where a task's sealed shards go under a network's `home`: a folder named by the task's beacon
/// anchor, unique to the task and known before the task has an id.
pub fn shard_dir(home: &Path, anchor: &[u8]) -> PathBuf {
    home.join("shards").join(hex::encode(&anchor[..anchor.len().min(8)]))
}

/// Splits the evaluation CSV at `eval` into `rounds` shards, seals each under a fresh key and
/// writes the ciphertexts to `dir/round-<r>.csv.enc`.
pub fn seal_evaluation(eval: &Path, rounds: u32, dir: &Path) -> Result<SealedEvaluation, TestnetError> {
    let path = repo::resolve(eval);
    let text = std::fs::read_to_string(&path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    let plain = split_shards(&text, rounds).map_err(|reason| TestnetError::Data { path: path.clone(), reason })?;
    seal_shards(&plain, dir, "csv")
}

/// Seals each round's plaintext shard under a fresh key and writes the ciphertexts to
/// `dir/round-<r>.<extension>.enc`.
fn seal_shards(plain: &[String], dir: &Path, extension: &str) -> Result<SealedEvaluation, TestnetError> {
    let rounds = plain.len() as u32;
    std::fs::create_dir_all(dir).map_err(TestnetError::io(format!("creating {}", dir.display())))?;
    let keys = EvaluationKeys::generate(rounds);
    let mut shards = Vec::new();
    for (round, shard) in (1..=rounds).zip(plain) {
        let key = keys.key(round).expect("one key per round");
        let file = dir.join(format!("round-{round}.{extension}.enc"));
        std::fs::write(&file, encrypt_shard(key, round, shard.as_bytes()))
            .map_err(TestnetError::io(format!("writing {}", file.display())))?;
        shards.push(EvaluationShard {
            uri: file_uri(&file),
            sha256: HexBinary::from(<[u8; 32]>::from(Sha256::digest(shard.as_bytes()))),
            key_sha256: HexBinary::from(evaluation_key_hash(key)),
        });
    }
    Ok(SealedEvaluation { shards, keys })
}

/// Cuts CSV text into `rounds` contiguous shards of rows (blank lines dropped), as even as can be:
/// shard i holds rows `[i * n / rounds, (i + 1) * n / rounds)`. A first line that is not all
/// numbers is a header and heads every shard. Deterministic: the same file always gives the same
/// shards, so their hashes can be checked by anyone holding the file.
pub fn split_shards(text: &str, rounds: u32) -> Result<Vec<String>, String> {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let header = match lines.first() {
        Some(first) if first.split(',').any(|f| f.trim().parse::<f64>().is_err()) => Some(lines.remove(0)),
        _ => None,
    };
    split_rows(header, &lines, rounds)
}

/// Cuts `lines` into `rounds` contiguous, even shards (see [`split_shards`]), each headed by
/// `header` if there is one.
fn split_rows(header: Option<&str>, lines: &[&str], rounds: u32) -> Result<Vec<String>, String> {
    let (n, k) = (lines.len(), rounds as usize);
    if k == 0 || n < k {
        return Err(format!("{n} rows cannot make {rounds} non-empty shards, one per round"));
    }
    Ok((0..k)
        .map(|i| {
            let rows = &lines[i * n / k..(i + 1) * n / k];
            header.iter().chain(rows).map(|l| format!("{l}\n")).collect()
        })
        .collect())
}

/// A `file://` URI relative to the repository root (what workers resolve against their
/// `data_root`), or absolute for a file outside it.
fn file_uri(path: &Path) -> String {
    let absolute = repo::resolve(path);
    let uri_path = absolute.strip_prefix(repo::root()).map(Path::to_path_buf).unwrap_or(absolute);
    format!("file://{}", uri_path.display())
}

/// A public data set's URI with the file's sha256.
fn commitment(path: &Path) -> Result<DataCommitment, TestnetError> {
    let sha = sha256_file(&repo::resolve(path))?;
    Ok(DataCommitment { uri: file_uri(path), sha256: HexBinary::from_hex(&sha).expect("hex") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_client::shard::decrypt_shard;
    use arena_types::market::params::validate_task_params;
    use cosmwasm_std::Decimal;

    const PHASES: PhaseBlocks = PhaseBlocks { submission: 90, model_reveal: 20, commit: 70, reveal: 50 };

    #[test]
    fn the_digits_task_is_valid_anchored_to_its_secret_and_sealed_round_by_round() {
        let dir = tempfile::tempdir().unwrap();
        let secret = BeaconSecret::generate();
        let (params, keys) = TaskSpec::digits(3, PHASES).params(&secret, dir.path()).unwrap();
        validate_task_params(&params).unwrap();
        assert_eq!(params.beacon.as_slice(), secret.anchor(3));
        assert_eq!((params.beta, params.quorum), (Decimal::one(), Decimal::percent(50)));
        assert!(params.validators_per_submission >= 3 && params.beat_baseline);
        keys.check(1, &params.evaluation).unwrap();

        // Each shard opens with its round's key alone, to the plaintext the task committed to;
        // together they are the evaluation file, in order.
        let mut joined = String::new();
        for (round, shard) in (1..=3).zip(&params.evaluation) {
            assert!(shard.uri.starts_with("file://") && shard.uri.ends_with(&format!("round-{round}.csv.enc")));
            let sealed = std::fs::read(dir.path().join(format!("round-{round}.csv.enc"))).unwrap();
            let plain = decrypt_shard(keys.key(round).unwrap(), round, &sealed).unwrap();
            assert_eq!(Sha256::digest(&plain)[..], shard.sha256[..]);
            let other = if round == 1 { 2 } else { 1 };
            assert!(decrypt_shard(keys.key(other).unwrap(), round, &sealed).is_err());
            joined.push_str(std::str::from_utf8(&plain).unwrap());
        }
        let eval = std::fs::read_to_string(repo::resolve("data/digits-eval.csv")).unwrap();
        assert_eq!(joined, eval);
        // Only ciphertexts are written.
        let written: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(written.len(), 3);
        assert!(written.iter().all(|n| n.to_string_lossy().ends_with(".csv.enc")));
    }

    #[test]
    fn a_language_model_task_is_valid_and_seals_whole_conversations() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("model.safetensors");
        std::fs::write(&base, b"the base's weights").unwrap();
        let secret = BeaconSecret::generate();
        let spec = LmTaskSpec {
            train: "data/shakespeare-instruct.jsonl".into(),
            eval: "data/shakespeare-instruct.jsonl".into(),
            base: base.clone(),
            architecture: "gpt:layers=1,d=32,heads=2,ctx=64".into(),
            tokenizer: None,
            max_lora_rank: 4,
            max_trainable_params: 2_000,
            rounds: 2,
            phases: PHASES,
            validators_per_submission: 3,
        };
        let (params, keys) = spec.params(&secret, &dir.path().join("shards")).unwrap();
        validate_task_params(&params).unwrap();
        let TaskKind::LanguageModel(lm) = &params.kind else { panic!("{:?}", params.kind) };
        assert_eq!(lm.base.sha256.to_hex(), hex::encode(Sha256::digest(b"the base's weights")));
        assert_eq!((lm.max_lora_rank, params.model.max_parameters), (4, 2_000));
        assert_eq!(params.metric, Metric::bits_per_byte());
        // Each shard is whole JSONL lines, no header; together they are the file.
        let mut joined = String::new();
        for (round, shard) in (1..=2).zip(&params.evaluation) {
            assert!(shard.uri.ends_with(&format!("round-{round}.jsonl.enc")), "{}", shard.uri);
            let sealed = std::fs::read(dir.path().join(format!("shards/round-{round}.jsonl.enc"))).unwrap();
            joined.push_str(
                std::str::from_utf8(&decrypt_shard(keys.key(round).unwrap(), round, &sealed).unwrap()).unwrap(),
            );
        }
        let eval = std::fs::read_to_string(repo::resolve("data/shakespeare-instruct.jsonl")).unwrap();
        assert_eq!(joined, eval);
    }

    #[test]
    fn shards_are_contiguous_even_and_keep_the_header() {
        let rows: String = (0..7).map(|i| format!("{i},{}\n", i % 2)).collect();
        let shards = split_shards(&format!("x,label\n{rows}\n"), 3).unwrap();
        assert_eq!(shards, vec!["x,label\n0,0\n1,1\n", "x,label\n2,0\n3,1\n", "x,label\n4,0\n5,1\n6,0\n"]);
        let shards = split_shards(&rows, 2).unwrap();
        assert_eq!(shards, vec!["0,0\n1,1\n2,0\n", "3,1\n4,0\n5,1\n6,0\n"]);
        assert_eq!(split_shards(&rows, 2).unwrap(), shards, "deterministic");
        assert!(split_shards("0,1\n1,0\n", 3).is_err(), "fewer rows than rounds");
        assert!(split_shards("x,label\n", 1).is_err(), "a header alone is no shard");
    }
}
