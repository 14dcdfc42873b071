//! Validation of a task's parameters and of a submission's model metadata, as pure functions:
//! the contract refuses exactly what these refuse, and a UI can check a form before sending it.

use cosmwasm_std::{Decimal, HexBinary, Uint128};
use thiserror::Error;

use super::commitment::MAX_SCORE;
use super::msg::{
    DataCommitment, EvaluationShard, LanguageModelTask, Metric, ModelConstraints, ModelMetadata, Phases, TaskKind,
    TaskParams, LORA_FAMILY,
};
use super::sampling::stake_power;

/// Most rounds a task may run.
pub const MAX_ROUNDS: u32 = 1_000;
/// Fewest validators per submission: with one or two, a single validator is the consensus or
/// can void it.
pub const MIN_VALIDATORS_PER_SUBMISSION: u32 = 3;
/// Most validators per submission: bounds the work of a finalization page (k reads per item).
pub const MAX_VALIDATORS_PER_SUBMISSION: u32 = 32;
/// Longest URI accepted (data sets, models).
pub const MAX_URI_LEN: usize = 512;
/// Longest name or short text field.
pub const MAX_NAME_LEN: usize = 64;
/// Longest description or notes field.
pub const MAX_TEXT_LEN: usize = 256;
/// Highest `max_lora_rank` a language-model task may allow: LoRA ranks are small by design (the
/// adapter is a low-rank update); 1,024 is above any useful rank of the bases Arena trains.
pub const MAX_LORA_RANK: u32 = 1_024;

/// Why task parameters or model metadata were refused.
#[derive(Error, Debug, PartialEq, Eq)]
pub enum ParamError {
    #[error("{field} must be between {min} and {max}, got {got}")]
    OutOfRange { field: &'static str, min: String, max: String, got: String },

    #[error("{field} must not be empty")]
    Empty { field: &'static str },

    #[error("{field} is {len} bytes long; at most {max} are allowed")]
    TooLong { field: &'static str, len: usize, max: usize },

    #[error("{field} must be a sha256 digest of 32 bytes, got {len} bytes")]
    BadDigest { field: &'static str, len: usize },

    #[error("beta {got} is not supported: use 1, 0.75, 0.5 or 0.25 (computed exactly with integer square roots)")]
    UnsupportedBeta { got: Decimal },

    #[error("outlier_bound {outlier_bound} must be at least tau {tau}")]
    OutlierBelowTau { tau: u32, outlier_bound: u32 },

    #[error("unbonding ({unbonding}) must last at least one round ({round_length}) so staked work stays slashable")]
    UnbondingTooShort { unbonding: u64, round_length: u64 },

    #[error("the task has {rounds} rounds but {shards} evaluation shards: give one per round")]
    ShardCount { rounds: u32, shards: usize },

    #[error("creator_bond {bond} is below one unit per round ({rounds}): a void round must forfeit something")]
    BondTooSmall { bond: Uint128, rounds: u32 },

    #[error("model family {got:?} does not match the task's {expected:?}")]
    WrongModelFamily { expected: String, got: String },

    #[error("{field} {got} exceeds the task's limit of {max}")]
    ModelTooLarge { field: &'static str, max: u64, got: u64 },

    #[error(
        "kind.language_model.max_trainable_params {max_trainable_params} is above model.max_parameters \
         {max_parameters}: the market would refuse adapters the task allows; raise model.max_parameters"
    )]
    AdapterLimitAboveModel { max_trainable_params: u64, max_parameters: u64 },
}

fn range<T: PartialOrd + ToString>(field: &'static str, got: T, min: T, max: T) -> Result<(), ParamError> {
    if got < min || got > max {
        return Err(ParamError::OutOfRange { field, min: min.to_string(), max: max.to_string(), got: got.to_string() });
    }
    Ok(())
}

/// Refuses an empty or over-long text field.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<(), ParamError> {
    if value.trim().is_empty() {
        return Err(ParamError::Empty { field });
    }
    if value.len() > max {
        return Err(ParamError::TooLong { field, len: value.len(), max });
    }
    Ok(())
}

/// Refuses anything but a 32-byte digest.
pub fn digest(field: &'static str, value: &HexBinary) -> Result<(), ParamError> {
    if value.len() != 32 {
        return Err(ParamError::BadDigest { field, len: value.len() });
    }
    Ok(())
}

fn data(uri_field: &'static str, sha_field: &'static str, d: &DataCommitment) -> Result<(), ParamError> {
    text(uri_field, &d.uri, MAX_URI_LEN)?;
    digest(sha_field, &d.sha256)
}

fn shard(s: &EvaluationShard) -> Result<(), ParamError> {
    text("evaluation.uri", &s.uri, MAX_URI_LEN)?;
    digest("evaluation.sha256", &s.sha256)?;
    digest("evaluation.key_sha256", &s.key_sha256)
}

fn model(m: &ModelConstraints) -> Result<(), ParamError> {
    text("model.family", &m.family, MAX_NAME_LEN)?;
    range("model.max_parameters", m.max_parameters, 1, u64::MAX)?;
    range("model.max_file_bytes", m.max_file_bytes, 1, u64::MAX)
}

/// A language-model task's base and limits: a base file (and its tokenizer's, if any) named by
/// URI and a 32-byte sha256, its
/// architecture named (parsed by the nodes, which hold the model code), a rank
/// limit in 1..=[`MAX_LORA_RANK`], a nonzero parameter limit the model constraints allow, and
/// submissions named [`LORA_FAMILY`].
fn language_model(lm: &LanguageModelTask, m: &ModelConstraints) -> Result<(), ParamError> {
    data("kind.language_model.base.uri", "kind.language_model.base.sha256", &lm.base)?;
    if let Some(tokenizer) = &lm.tokenizer {
        data("kind.language_model.tokenizer.uri", "kind.language_model.tokenizer.sha256", tokenizer)?;
    }
    text("kind.language_model.architecture", &lm.architecture, MAX_NAME_LEN)?;
    range("kind.language_model.max_lora_rank", lm.max_lora_rank, 1, MAX_LORA_RANK)?;
    range("kind.language_model.max_trainable_params", lm.max_trainable_params, 1, u64::MAX)?;
    if m.family != LORA_FAMILY {
        return Err(ParamError::WrongModelFamily { expected: LORA_FAMILY.into(), got: m.family.clone() });
    }
    if lm.max_trainable_params > m.max_parameters {
        return Err(ParamError::AdapterLimitAboveModel {
            max_trainable_params: lm.max_trainable_params,
            max_parameters: m.max_parameters,
        });
    }
    Ok(())
}

impl TaskParams {
    /// A task with Arena's default economics, where the caller gives only what is its own (what
    /// is measured, on which data, with which model, for how long, and the creator's beacon and
    /// evaluation shards, one per round): k = 3 validators per submission, minimum stakes of 1
    /// token (10^6 units) for both roles, a creator bond of 1 token per round, quorum 1/2, tau 2
    /// points (20,000 ppm), outlier bound 10 points, no minimum score but the baseline to beat,
    /// gamma 10%, rank decay q = 0.8, beta = 1 (stake split over identities gains nothing),
    /// epsilon 1/2, slashes of 5% (liveness) and 10% (outlier). The one place these are written:
    /// deployments, the demo, benches and tests override fields with struct update syntax.
    pub fn with_defaults(
        metric: Metric,
        beacon: HexBinary,
        training_data: DataCommitment,
        evaluation: Vec<EvaluationShard>,
        model: ModelConstraints,
        phases: Phases,
    ) -> TaskParams {
        let rounds = u32::try_from(evaluation.len()).unwrap_or(u32::MAX);
        TaskParams {
            metric,
            beacon,
            training_data,
            evaluation,
            creator_bond: Uint128::new(1_000_000) * Uint128::from(rounds),
            model,
            kind: TaskKind::Classification,
            rounds,
            phases,
            validators_per_submission: 3,
            min_trainer_stake: Uint128::new(1_000_000),
            min_validator_stake: Uint128::new(1_000_000),
            quorum: Decimal::percent(50),
            tau: 20_000,
            outlier_bound: 100_000,
            min_score: 0,
            beat_baseline: true,
            gamma: Decimal::percent(10),
            q: Decimal::percent(80),
            beta: Decimal::one(),
            epsilon: Decimal::percent(50),
            liveness_slash: Decimal::percent(5),
            outlier_slash: Decimal::percent(10),
        }
    }
}

/// Checks every task parameter; the first problem found is returned.
pub fn validate_task_params(p: &TaskParams) -> Result<(), ParamError> {
    text("metric.name", &p.metric.name, MAX_NAME_LEN)?;
    text("metric.description", &p.metric.description, MAX_TEXT_LEN)?;
    digest("beacon", &p.beacon)?;
    data("training_data.uri", "training_data.sha256", &p.training_data)?;
    model(&p.model)?;
    if let TaskKind::LanguageModel(lm) = &p.kind {
        language_model(lm, &p.model)?;
    }
    range("rounds", p.rounds, 1, MAX_ROUNDS)?;
    if p.evaluation.len() != p.rounds as usize {
        return Err(ParamError::ShardCount { rounds: p.rounds, shards: p.evaluation.len() });
    }
    p.evaluation.iter().try_for_each(shard)?;
    if p.creator_bond < Uint128::from(p.rounds) {
        return Err(ParamError::BondTooSmall { bond: p.creator_bond, rounds: p.rounds });
    }
    // Phase lengths of 1..=10^9 blocks or seconds: long enough to act in, short enough that a
    // schedule of MAX_ROUNDS rounds cannot overflow a u64.
    let max_phase = 1_000_000_000u64;
    range("phases.submission", p.phases.submission, 1, max_phase)?;
    range("phases.model_reveal", p.phases.model_reveal, 1, max_phase)?;
    // At least 2, so that sampling waits at least one block for the creator's beacon
    // (`Schedule::beacon_deadline` is half-way through the commit phase).
    range("phases.commit", p.phases.commit, 2, max_phase)?;
    range("phases.reveal", p.phases.reveal, 1, max_phase)?;
    let round_length = p.phases.submission + p.phases.model_reveal + p.phases.commit + p.phases.reveal;
    if p.phases.unbonding < round_length {
        return Err(ParamError::UnbondingTooShort { unbonding: p.phases.unbonding, round_length });
    }
    range("phases.unbonding", p.phases.unbonding, round_length, 10 * max_phase)?;
    range(
        "validators_per_submission",
        p.validators_per_submission,
        MIN_VALIDATORS_PER_SUBMISSION,
        MAX_VALIDATORS_PER_SUBMISSION,
    )?;
    range("min_trainer_stake", p.min_trainer_stake.u128(), 1, u128::MAX)?;
    range("min_validator_stake", p.min_validator_stake.u128(), 1, u128::MAX)?;
    let zero = Decimal::zero();
    let one = Decimal::one();
    // Below half, a minority of the assigned stake could score a submission alone.
    range("quorum", p.quorum, Decimal::percent(50), one)?;
    range("tau", p.tau, 0, MAX_SCORE)?;
    range("outlier_bound", p.outlier_bound, 0, MAX_SCORE)?;
    if p.outlier_bound < p.tau {
        return Err(ParamError::OutlierBelowTau { tau: p.tau, outlier_bound: p.outlier_bound });
    }
    range("min_score", p.min_score, 0, MAX_SCORE)?;
    range("gamma", p.gamma, zero, Decimal::percent(50))?;
    range("q", p.q, Decimal::from_ratio(1u128, 1_000_000u128), one)?;
    if stake_power(cosmwasm_std::Uint128::one(), p.beta).is_none() {
        return Err(ParamError::UnsupportedBeta { got: p.beta });
    }
    range("epsilon", p.epsilon, zero, one)?;
    range("liveness_slash", p.liveness_slash, zero, one)?;
    range("outlier_slash", p.outlier_slash, zero, one)?;
    Ok(())
}

/// Checks a submitted model's metadata against the task's constraints.
pub fn validate_metadata(c: &ModelConstraints, m: &ModelMetadata) -> Result<(), ParamError> {
    if m.family != c.family {
        return Err(ParamError::WrongModelFamily { expected: c.family.clone(), got: m.family.clone() });
    }
    if m.parameters > c.max_parameters {
        return Err(ParamError::ModelTooLarge { field: "parameters", max: c.max_parameters, got: m.parameters });
    }
    if m.file_bytes > c.max_file_bytes {
        return Err(ParamError::ModelTooLarge { field: "file_bytes", max: c.max_file_bytes, got: m.file_bytes });
    }
    if let Some(notes) = &m.notes {
        if notes.len() > MAX_TEXT_LEN {
            return Err(ParamError::TooLong { field: "metadata.notes", len: notes.len(), max: MAX_TEXT_LEN });
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::market::phase::Clock;

    /// A realistic demo task: MNIST-sized MLP, 3 rounds of 20 + 5 + 10 + 10 blocks, k = 3.
    pub fn demo_params() -> TaskParams {
        TaskParams {
            min_trainer_stake: Uint128::new(100),
            min_validator_stake: Uint128::new(100),
            beta: Decimal::percent(50),
            ..TaskParams::with_defaults(
                Metric {
                    name: "accuracy_ppm".into(),
                    description: "top-1 accuracy on the evaluation set, in parts per million".into(),
                },
                HexBinary::from([9u8; 32]),
                DataCommitment { uri: "file://data/train.bin".into(), sha256: HexBinary::from([1u8; 32]) },
                (1..=3u8)
                    .map(|r| EvaluationShard {
                        uri: format!("file://data/eval-{r}.bin.enc"),
                        sha256: HexBinary::from([r; 32]),
                        key_sha256: HexBinary::from([r + 10; 32]),
                    })
                    .collect(),
                ModelConstraints {
                    family: "mlp-784-128-10".into(),
                    max_parameters: 200_000,
                    max_file_bytes: 1_000_000,
                },
                Phases { clock: Clock::Height, submission: 20, model_reveal: 5, commit: 10, reveal: 10, unbonding: 45 },
            )
        }
    }

    #[test]
    fn demo_params_are_valid() {
        assert_eq!(validate_task_params(&demo_params()), Ok(()));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let mut p = demo_params();
        p.rounds = 0;
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "rounds", .. })));
        let mut p = demo_params();
        p.gamma = Decimal::percent(51);
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "gamma", .. })));
        let mut p = demo_params();
        p.beta = Decimal::percent(60);
        assert_eq!(validate_task_params(&p), Err(ParamError::UnsupportedBeta { got: Decimal::percent(60) }));
        let mut p = demo_params();
        p.training_data.sha256 = HexBinary::from([1u8; 31]);
        assert_eq!(validate_task_params(&p), Err(ParamError::BadDigest { field: "training_data.sha256", len: 31 }));
        let mut p = demo_params();
        p.outlier_bound = 10;
        assert_eq!(validate_task_params(&p), Err(ParamError::OutlierBelowTau { tau: 20_000, outlier_bound: 10 }));
        let mut p = demo_params();
        p.phases.unbonding = 44;
        assert_eq!(validate_task_params(&p), Err(ParamError::UnbondingTooShort { unbonding: 44, round_length: 45 }));
        let mut p = demo_params();
        p.evaluation.pop();
        assert_eq!(validate_task_params(&p), Err(ParamError::ShardCount { rounds: 3, shards: 2 }));
        let mut p = demo_params();
        p.evaluation[1].key_sha256 = HexBinary::from([1u8; 16]);
        assert_eq!(validate_task_params(&p), Err(ParamError::BadDigest { field: "evaluation.key_sha256", len: 16 }));
        let mut p = demo_params();
        p.creator_bond = Uint128::new(2);
        assert_eq!(validate_task_params(&p), Err(ParamError::BondTooSmall { bond: Uint128::new(2), rounds: 3 }));
        let mut p = demo_params();
        p.phases.model_reveal = 0;
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "phases.model_reveal", .. })));
        let mut p = demo_params();
        p.metric.name = " ".into();
        assert_eq!(validate_task_params(&p), Err(ParamError::Empty { field: "metric.name" }));
        let mut p = demo_params();
        p.quorum = Decimal::zero();
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "quorum", .. })));
        let mut p = demo_params();
        p.phases.commit = 1;
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "phases.commit", .. })));
        let mut p = demo_params();
        p.quorum = Decimal::percent(49);
        assert!(matches!(validate_task_params(&p), Err(ParamError::OutOfRange { field: "quorum", .. })));
        let mut p = demo_params();
        p.validators_per_submission = 2;
        assert!(matches!(
            validate_task_params(&p),
            Err(ParamError::OutOfRange { field: "validators_per_submission", .. })
        ));
        let mut p = demo_params();
        p.beacon = HexBinary::from([9u8; 31]);
        assert_eq!(validate_task_params(&p), Err(ParamError::BadDigest { field: "beacon", len: 31 }));
        let mut p = demo_params();
        p.validators_per_submission = 33;
        assert!(matches!(
            validate_task_params(&p),
            Err(ParamError::OutOfRange { field: "validators_per_submission", .. })
        ));
    }

    /// A valid language-model task: the demo's economics, a base, rank <= 8, 20,000 parameters.
    pub fn lm_params() -> TaskParams {
        TaskParams {
            metric: Metric::bits_per_byte(),
            model: ModelConstraints { family: LORA_FAMILY.into(), max_parameters: 20_000, max_file_bytes: 1_000_000 },
            kind: TaskKind::LanguageModel(LanguageModelTask {
                base: DataCommitment {
                    uri: "file://base/model.safetensors".into(),
                    sha256: HexBinary::from([7u8; 32]),
                },
                architecture: "gpt:layers=1,d=32,heads=2,ctx=64".into(),
                max_lora_rank: 8,
                max_trainable_params: 20_000,
                tokenizer: None,
            }),
            ..demo_params()
        }
    }

    fn lm(p: &mut TaskParams) -> &mut LanguageModelTask {
        match &mut p.kind {
            TaskKind::LanguageModel(lm) => lm,
            TaskKind::Classification => unreachable!("lm_params is a language-model task"),
        }
    }

    #[test]
    fn a_language_model_task_names_its_base_and_limits() {
        assert_eq!(validate_task_params(&lm_params()), Ok(()));
        let mut p = lm_params();
        lm(&mut p).max_lora_rank = 0;
        assert_eq!(
            validate_task_params(&p),
            Err(ParamError::OutOfRange {
                field: "kind.language_model.max_lora_rank",
                min: "1".into(),
                max: "1024".into(),
                got: "0".into()
            })
        );
        let mut p = lm_params();
        lm(&mut p).max_lora_rank = MAX_LORA_RANK + 1;
        assert!(matches!(
            validate_task_params(&p),
            Err(ParamError::OutOfRange { field: "kind.language_model.max_lora_rank", .. })
        ));
        let mut p = lm_params();
        lm(&mut p).max_trainable_params = 0;
        assert!(matches!(
            validate_task_params(&p),
            Err(ParamError::OutOfRange { field: "kind.language_model.max_trainable_params", .. })
        ));
        let mut p = lm_params();
        lm(&mut p).base.sha256 = HexBinary::from([7u8; 20]);
        assert_eq!(
            validate_task_params(&p),
            Err(ParamError::BadDigest { field: "kind.language_model.base.sha256", len: 20 })
        );
        let mut p = lm_params();
        lm(&mut p).base.uri = String::new();
        assert_eq!(validate_task_params(&p), Err(ParamError::Empty { field: "kind.language_model.base.uri" }));
        let mut p = lm_params();
        lm(&mut p).architecture = " ".into();
        assert_eq!(validate_task_params(&p), Err(ParamError::Empty { field: "kind.language_model.architecture" }));
        let mut p = lm_params();
        p.model.family = "mlp".into();
        assert_eq!(
            validate_task_params(&p),
            Err(ParamError::WrongModelFamily { expected: "lora".into(), got: "mlp".into() })
        );
        let mut p = lm_params();
        p.model.max_parameters = 19_999;
        assert_eq!(
            validate_task_params(&p),
            Err(ParamError::AdapterLimitAboveModel { max_trainable_params: 20_000, max_parameters: 19_999 })
        );
        // A BPE base commits to its tokenizer.json as it does to its weights.
        let mut p = lm_params();
        let tokenizer = DataCommitment { uri: "file://base/tokenizer.json".into(), sha256: HexBinary::from([5u8; 32]) };
        lm(&mut p).tokenizer = Some(tokenizer.clone());
        assert_eq!(validate_task_params(&p), Ok(()));
        lm(&mut p).tokenizer = Some(DataCommitment { sha256: HexBinary::from([5u8; 31]), ..tokenizer.clone() });
        assert_eq!(
            validate_task_params(&p),
            Err(ParamError::BadDigest { field: "kind.language_model.tokenizer.sha256", len: 31 })
        );
        lm(&mut p).tokenizer = Some(DataCommitment { uri: String::new(), ..tokenizer });
        assert_eq!(validate_task_params(&p), Err(ParamError::Empty { field: "kind.language_model.tokenizer.uri" }));
    }

    #[test]
    fn a_task_without_a_kind_is_classification_and_is_written_as_before() {
        let classification = demo_params();
        let json = serde_json::to_value(&classification).unwrap();
        assert!(json.get("kind").is_none(), "a classification task's JSON is unchanged: {json}");
        assert_eq!(serde_json::from_value::<TaskParams>(json).unwrap().kind, TaskKind::Classification);
        let lm = lm_params();
        let json = serde_json::to_value(&lm).unwrap();
        assert_eq!(json["kind"]["language_model"]["max_lora_rank"], 8);
        assert!(json["kind"]["language_model"].get("tokenizer").is_none(), "a byte-level task's JSON is unchanged");
        assert_eq!(serde_json::from_value::<TaskParams>(json).unwrap(), lm);
    }

    #[test]
    fn metadata_must_fit_the_constraints() {
        let c = demo_params().model;
        let ok =
            ModelMetadata { family: "mlp-784-128-10".into(), parameters: 101_770, file_bytes: 407_080, notes: None };
        assert_eq!(validate_metadata(&c, &ok), Ok(()));
        let mut m = ok.clone();
        m.family = "cnn".into();
        assert!(matches!(validate_metadata(&c, &m), Err(ParamError::WrongModelFamily { .. })));
        let mut m = ok;
        m.parameters = 200_001;
        assert_eq!(
            validate_metadata(&c, &m),
            Err(ParamError::ModelTooLarge { field: "parameters", max: 200_000, got: 200_001 })
        );
    }
}
