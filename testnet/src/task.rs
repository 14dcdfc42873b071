//! Task parameters for local tasks: data sets named by path (their sha256 computed here), sensible
//! economics, phase lengths in blocks, and the creator's beacon anchor. Used by `testnet
//! create-task`, the demo and the chain tests.

use std::path::{Path, PathBuf};

use arena_client::BeaconSecret;
use arena_types::market::msg::{DataCommitment, Metric, ModelConstraints, Phases, TaskParams};
use arena_types::market::phase::Clock;
use cosmwasm_std::HexBinary;

use crate::contracts::sha256_file;
use crate::error::TestnetError;
use crate::repo;

/// What a user chooses for a classification task; the rest takes the defaults of [`TaskSpec::params`].
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Training and evaluation CSV files, relative to the repository root (that is the workers'
    /// `data_root`) or absolute.
    pub train: PathBuf,
    pub eval: PathBuf,
    pub rounds: u32,
    /// Blocks of the submission, commit and reveal phases (~0.2 s each on the devnet).
    pub phases: (u64, u64, u64),
    pub validators_per_submission: u32,
}

impl TaskSpec {
    /// The vendored digits split: 1,438 training rows, 359 held-out rows from other writers.
    pub fn digits(rounds: u32, phases: (u64, u64, u64)) -> Self {
        TaskSpec {
            train: "data/digits-train.csv".into(),
            eval: "data/digits-eval.csv".into(),
            rounds,
            phases,
            validators_per_submission: 3,
        }
    }

    /// The task's parameters, anchored to the creator's beacon `secret` (draw it with
    /// [`BeaconSecret::generate`] and keep it: each round's sampling waits for its value). Quorum
    /// is half the assigned stake and beta 1, the market's safest choices: below 1, stake split
    /// over many validator identities would be sampled more often than the same stake in one.
    pub fn params(&self, secret: &BeaconSecret) -> Result<TaskParams, TestnetError> {
        let (submission, commit, reveal) = self.phases;
        Ok(TaskParams {
            validators_per_submission: self.validators_per_submission,
            ..TaskParams::with_defaults(
                Metric {
                    name: "accuracy_ppm".into(),
                    description: format!("top-1 accuracy on {}, in parts per million", self.eval.display()),
                },
                HexBinary::from(secret.anchor(self.rounds)),
                commitment(&self.train)?,
                commitment(&self.eval)?,
                ModelConstraints { family: "mlp".into(), max_parameters: 10_000_000, max_file_bytes: 64_000_000 },
                self.rounds,
                Phases {
                    clock: Clock::Height,
                    submission,
                    commit,
                    reveal,
                    unbonding: 2 * (submission + commit + reveal),
                },
            )
        })
    }
}

/// A `file://` URI relative to the repository root (what workers resolve against their
/// `data_root`), with the file's sha256.
fn commitment(path: &Path) -> Result<DataCommitment, TestnetError> {
    let absolute = repo::resolve(path);
    let sha = sha256_file(&absolute)?;
    let uri_path = absolute.strip_prefix(repo::root()).map(Path::to_path_buf).unwrap_or(absolute);
    Ok(DataCommitment {
        uri: format!("file://{}", uri_path.display()),
        sha256: HexBinary::from_hex(&sha).expect("hex"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arena_types::market::params::validate_task_params;
    use cosmwasm_std::Decimal;

    #[test]
    fn the_digits_task_is_valid_and_anchored_to_its_secret() {
        let secret = BeaconSecret::generate();
        let params = TaskSpec::digits(3, (90, 70, 50)).params(&secret).unwrap();
        validate_task_params(&params).unwrap();
        assert_eq!(params.beacon.as_slice(), secret.anchor(3));
        assert_eq!((params.beta, params.quorum), (Decimal::one(), Decimal::percent(50)));
        assert!(params.validators_per_submission >= 3);
    }
}
