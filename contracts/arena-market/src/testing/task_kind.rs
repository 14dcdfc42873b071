//! Task kinds: a language-model task stores and shows its base and adapter limits, refuses bad
//! ones at creation, and takes LoRA submissions through the same sealed round; a classification
//! task is stored exactly as before kinds existed, so stored tasks and old clients read it.

use arena_types::market::msg::{
    DataCommitment, ExecuteMsg, LanguageModelTask, Metric, ModelConstraints, ModelMetadata, TaskKind, TaskParams,
    LORA_FAMILY,
};
use arena_types::market::params::ParamError;
use cosmwasm_std::HexBinary;

use super::helpers::*;
use crate::ContractError;

/// The suite's defaults as a language-model task: rank <= 8, 20,000 trainable parameters.
fn lm_params() -> TaskParams {
    TaskParams {
        metric: Metric::bits_per_byte(),
        model: ModelConstraints { family: LORA_FAMILY.into(), max_parameters: 20_000, max_file_bytes: 1_000_000 },
        kind: TaskKind::LanguageModel(lm_kind()),
        ..default_params()
    }
}

fn lm_kind() -> LanguageModelTask {
    LanguageModelTask {
        base: DataCommitment { uri: "file://base/model.safetensors".into(), sha256: HexBinary::from([7u8; 32]) },
        architecture: "gpt:layers=1,d=32,heads=2,ctx=64".into(),
        max_lora_rank: 8,
        max_trainable_params: 20_000,
        tokenizer: None,
    }
}

/// The base's tokenizer.json, for a BPE base.
fn tokenizer() -> DataCommitment {
    DataCommitment { uri: "file://base/tokenizer.json".into(), sha256: HexBinary::from([5u8; 32]) }
}

/// An adapter's metadata as a trainer reveals it.
fn adapter_metadata(parameters: u64) -> ModelMetadata {
    ModelMetadata { family: LORA_FAMILY.into(), parameters, file_bytes: 50_000, notes: Some("r=4".into()) }
}

fn reveal_adapter(suite: &mut Suite, task: u64, trainer: &cosmwasm_std::Addr, tag: u8, parameters: u64) -> ExecuteMsg {
    let round = suite.task(task).now.round;
    let mut msg = reveal_model_msg(task, tag, &model_salt(trainer, round));
    if let ExecuteMsg::RevealModel { metadata, .. } = &mut msg {
        *metadata = adapter_metadata(parameters);
    }
    msg
}

#[test]
fn a_language_model_task_shows_its_base_and_limits() {
    let (suite, task, _start, _ts, _vs) = running_task(lm_params(), 0, 0);
    let shown = suite.task(task).params;
    assert_eq!(shown.kind, TaskKind::LanguageModel(lm_kind()));
    assert_eq!(shown.metric.name, "bits_per_byte_ppm");
}

#[test]
fn a_bpe_language_model_task_shows_its_tokenizer() {
    let kind = LanguageModelTask { tokenizer: Some(tokenizer()), ..lm_kind() };
    let params = TaskParams { kind: TaskKind::LanguageModel(kind.clone()), ..lm_params() };
    let (suite, task, _start, _ts, _vs) = running_task(params, 0, 0);
    assert_eq!(suite.task(task).params.kind, TaskKind::LanguageModel(kind));
}

#[test]
fn a_classification_task_is_stored_as_before_kinds_and_reads_as_classification() {
    let (suite, task, _start, _ts, _vs) = running_task(default_params(), 0, 0);
    assert_eq!(suite.task(task).params.kind, TaskKind::Classification);
    // `tasks_v1`, a cw-storage-plus Map<u64, Task>: length-prefixed namespace, then the id.
    let mut key = vec![0u8, 8];
    key.extend_from_slice(b"tasks_v1");
    key.extend_from_slice(&task.to_be_bytes());
    let stored = suite.app.wrap().query_wasm_raw(suite.market.clone(), key).unwrap().expect("the task is stored");
    let json: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert!(json["params"].is_object(), "{json}");
    assert!(json["params"].get("kind").is_none(), "no kind field: stored as before 0.4 ({json})");
}

#[test]
fn bad_language_model_parameters_are_refused_with_the_field() {
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    let with = |f: &dyn Fn(&mut LanguageModelTask)| {
        let mut lm = lm_kind();
        f(&mut lm);
        TaskParams { kind: TaskKind::LanguageModel(lm), ..lm_params() }
    };
    let err = suite.create_task(&creator, 1_000, with(&|lm| lm.max_lora_rank = 0)).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::OutOfRange {
            field: "kind.language_model.max_lora_rank",
            min: "1".into(),
            max: "1024".into(),
            got: "0".into()
        })
    );
    let err = suite.create_task(&creator, 1_000, with(&|lm| lm.max_trainable_params = 0)).unwrap_err();
    assert!(
        matches!(
            err,
            ContractError::InvalidParam(ParamError::OutOfRange {
                field: "kind.language_model.max_trainable_params",
                ..
            })
        ),
        "{err:?}"
    );
    let err = suite.create_task(&creator, 1_000, with(&|lm| lm.base.sha256 = HexBinary::from([7u8; 31]))).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::BadDigest { field: "kind.language_model.base.sha256", len: 31 })
    );
    let bad_tokenizer = DataCommitment { sha256: HexBinary::from([5u8; 33]), ..tokenizer() };
    let err = suite.create_task(&creator, 1_000, with(&|lm| lm.tokenizer = Some(bad_tokenizer.clone()))).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::BadDigest { field: "kind.language_model.tokenizer.sha256", len: 33 })
    );
    let err = suite.create_task(&creator, 1_000, with(&|lm| lm.max_trainable_params = 20_001)).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::AdapterLimitAboveModel {
            max_trainable_params: 20_001,
            max_parameters: 20_000
        })
    );
    let mlp = TaskParams { model: ModelConstraints { family: "mlp".into(), ..lm_params().model }, ..lm_params() };
    let err = suite.create_task(&creator, 1_000, mlp).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::WrongModelFamily { expected: "lora".into(), got: "mlp".into() })
    );
}

#[test]
fn an_adapter_is_sealed_and_revealed_like_any_model_within_the_limits() {
    let (mut suite, task, start, ts, _vs) = running_task(lm_params(), 2, 0);
    suite.submit_unrevealed(&ts[0], task, 21).unwrap();
    suite.submit_unrevealed(&ts[1], task, 22).unwrap();
    suite.advance_to(at(start, 1, MODEL_REVEAL));
    let within = reveal_adapter(&mut suite, task, &ts[0], 21, 20_000);
    suite.execute(&ts[0], &within).unwrap();
    let over = reveal_adapter(&mut suite, task, &ts[1], 22, 20_001);
    let err = suite.execute(&ts[1], &over).unwrap_err();
    assert_eq!(
        err,
        ContractError::InvalidParam(ParamError::ModelTooLarge { field: "parameters", max: 20_000, got: 20_001 })
    );
    let revealed = suite.submission(task, 1).model.expect("revealed");
    assert_eq!(revealed.metadata, adapter_metadata(20_000));
}
