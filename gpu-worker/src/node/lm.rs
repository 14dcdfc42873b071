//! Language-model tasks in the nodes: the one file a trainer commits to for a LoRA adapter, and
//! what a validator checks of it before scoring.
//!
//! **The committed artifact.** A PEFT adapter is two files, `adapter_config.json` and
//! `adapter_model.safetensors`; a submission commits to one sha256. The artifact is
//! `adapter_model.safetensors` with `adapter_config.json` (as PEFT writes it) carried as the
//! string value of the key [`ADAPTER_CONFIG_KEY`] of the safetensors header's `__metadata__`:
//! still a valid PEFT weights file (loaders read only `format` of the metadata), byte for byte
//! deterministic (the header is written by one serializer, padded to 8 bytes with spaces, the
//! tensors untouched), and the hash covers the rank, alpha, targets and base the config declares.
//! [`unpack_adapter`] writes the two files back (`adapter_config.json` from the metadata, the
//! artifact itself as the weights) and reads them with PEFT's rules
//! ([`LoraAdapter::load`]: shapes, finiteness, no unknown tensors).
//!
//! **The checks** ([`examine_adapter`]): the artifact unpacks, its weights are finite, its base is
//! the task's (`base_model_name_or_path` = the task's base sha256), its rank is at most
//! `max_lora_rank`, its trainable parameters (the entries of every A and B) at most
//! `max_trainable_params`, and the metadata its trainer revealed is true (family `lora`, that
//! parameter count, that byte size). Any failure scores 0 with the reason journaled, which
//! `gpu-worker status` shows.
//!
//! **The base** ([`TaskBase`]): the task's weights and the tokenizer its text goes through, a
//! Hugging Face `tokenizer.json` the task commits to beside the weights, or bytes when it names
//! none; trainers and validators tokenize the chat with it, so every score counts the same tokens.

use std::path::Path;

use arena_types::market::msg::{LanguageModelTask, ModelConstraints, ModelMetadata, LORA_FAMILY};
use arena_types::market::params::validate_metadata;
use serde_json::Value;

use crate::lm::{GptSpec, GptWeights, LoraAdapter, Tokenizer, ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE};

/// A language-model task's fixed base, as fetched and checked
/// ([`crate::node::context::Node::fetch_base`]).
pub struct TaskBase {
    pub weights: GptWeights,
    /// The task's `tokenizer.json`, or bytes.
    pub tokenizer: Tokenizer,
}

/// The `__metadata__` key of the committed artifact that holds `adapter_config.json`.
pub const ADAPTER_CONFIG_KEY: &str = "adapter_config";

/// The adapter's trainable parameters: r · (fan_in + fan_out) per adapted module (the alignment
/// padding of [`LoraAdapter::params`] is not a parameter).
pub fn trainable_params(adapter: &LoraAdapter) -> u64 {
    let r = adapter.config.r as u64;
    adapter.modules.iter().map(|m| r * (m.fan_in + m.fan_out) as u64).sum()
}

/// The committed artifact of `adapter`: its `adapter_model.safetensors` with its
/// `adapter_config.json` in the header's `__metadata__`.
pub fn pack_adapter(adapter: &LoraAdapter) -> Vec<u8> {
    let weights = adapter.to_safetensors();
    let (mut header, data) = split_safetensors(&weights).expect("our own writer's safetensors parse");
    let metadata = header
        .as_object_mut()
        .expect("a safetensors header is an object")
        .entry("__metadata__")
        .or_insert_with(|| Value::Object(Default::default()));
    metadata
        .as_object_mut()
        .expect("__metadata__ is an object")
        .insert(ADAPTER_CONFIG_KEY.into(), Value::String(adapter.config_json()));
    let mut json = serde_json::to_vec(&header).expect("a JSON value serializes");
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + data.len());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(data);
    out
}

/// The header (as JSON) and the data of a safetensors file; None if it is not one.
fn split_safetensors(bytes: &[u8]) -> Option<(Value, &[u8])> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let end = 8usize.checked_add(usize::try_from(n).ok()?)?;
    let header = serde_json::from_slice(bytes.get(8..end)?).ok()?;
    Some((header, &bytes[end..]))
}

/// Reads a committed artifact as an adapter for a base of shape `spec`, through PEFT's two files
/// written into `dir`. The error says what is wrong with it.
pub fn unpack_adapter(bytes: &[u8], spec: &GptSpec, dir: &Path) -> Result<LoraAdapter, String> {
    let (header, _) = split_safetensors(bytes).ok_or("the file is not safetensors (its header does not parse)")?;
    let config = header["__metadata__"][ADAPTER_CONFIG_KEY].as_str().ok_or_else(|| {
        format!("the file carries no adapter_config.json (a string under __metadata__.{ADAPTER_CONFIG_KEY})")
    })?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, data: &[u8]| {
        std::fs::write(dir.join(name), data).map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write(ADAPTER_CONFIG_FILE, config.as_bytes())?;
    write(ADAPTER_WEIGHTS_FILE, bytes)?;
    LoraAdapter::load(dir, spec).map(|(adapter, _)| adapter).map_err(|e| e.to_string())
}

/// Everything a validator checks of a submitted adapter before it scores it (module doc):
/// the adapter, or why it scores 0. `scratch` is a folder the artifact may be unpacked in.
pub fn examine_adapter(
    bytes: &[u8],
    base_spec: &GptSpec,
    task: &LanguageModelTask,
    constraints: &ModelConstraints,
    claimed: &ModelMetadata,
    scratch: &Path,
) -> Result<LoraAdapter, String> {
    let adapter = unpack_adapter(bytes, base_spec, scratch)?;
    let base = task.base.sha256.to_hex();
    if adapter.base_sha256 != base {
        return Err(format!(
            "the adapter was made for the base with sha256 {}, not for this task's base {base}",
            adapter.base_sha256
        ));
    }
    if adapter.config.r as u64 > u64::from(task.max_lora_rank) {
        return Err(format!("LoRA rank r = {} is over the task's limit of {}", adapter.config.r, task.max_lora_rank));
    }
    let params = trainable_params(&adapter);
    if params > task.max_trainable_params {
        return Err(format!(
            "the adapter has {params} trainable parameters, over the task's limit of {}",
            task.max_trainable_params
        ));
    }
    let found =
        ModelMetadata { family: LORA_FAMILY.into(), parameters: params, file_bytes: bytes.len() as u64, notes: None };
    if claimed.family != found.family
        || claimed.parameters != found.parameters
        || claimed.file_bytes != found.file_bytes
    {
        return Err(format!(
            "the file is a {} adapter of {} parameters and {} bytes, but its metadata says {:?} of {} parameters and \
             {} bytes",
            found.family, found.parameters, found.file_bytes, claimed.family, claimed.parameters, claimed.file_bytes
        ));
    }
    validate_metadata(constraints, &found).map_err(|e| format!("the file breaks the task's model constraints: {e}"))?;
    Ok(adapter)
}

/// What a trainer reveals of an adapter artifact of `file_bytes` bytes.
pub fn adapter_metadata(adapter: &LoraAdapter, file_bytes: usize, notes: String) -> ModelMetadata {
    ModelMetadata {
        family: LORA_FAMILY.into(),
        parameters: trainable_params(adapter),
        file_bytes: file_bytes as u64,
        notes: Some(notes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::{LoraConfig, LoraTarget};
    use arena_types::market::msg::DataCommitment;
    use cosmwasm_std::HexBinary;

    const BASE: [u8; 32] = [7u8; 32];

    fn spec() -> GptSpec {
        GptSpec::parse("gpt:layers=1,d=32,heads=2,ctx=64").unwrap()
    }

    fn adapter(r: usize, base: [u8; 32]) -> LoraAdapter {
        let config = LoraConfig::parse(&format!("r={r},alpha={},targets=all", 2 * r)).unwrap();
        let mut a = LoraAdapter::init(&spec(), &config, &hex::encode(base), 3);
        // A trained adapter's B is nonzero.
        let b = a.modules[0].b.clone();
        a.params[b].iter_mut().enumerate().for_each(|(i, p)| *p = 0.001 * i as f32);
        a
    }

    fn task() -> LanguageModelTask {
        LanguageModelTask {
            base: DataCommitment { uri: "file://base.safetensors".into(), sha256: HexBinary::from(BASE) },
            architecture: spec().to_string(),
            max_lora_rank: 4,
            max_trainable_params: 5_000,
            tokenizer: None,
        }
    }

    fn constraints() -> ModelConstraints {
        ModelConstraints { family: LORA_FAMILY.into(), max_parameters: 5_000, max_file_bytes: 1_000_000 }
    }

    /// What an honest trainer reveals of `bytes`.
    fn truthful(a: &LoraAdapter, bytes: &[u8]) -> ModelMetadata {
        adapter_metadata(a, bytes.len(), "test".into())
    }

    fn examine(bytes: &[u8], claimed: &ModelMetadata) -> Result<LoraAdapter, String> {
        let dir = tempfile::tempdir().unwrap();
        examine_adapter(bytes, &spec(), &task(), &constraints(), claimed, dir.path())
    }

    #[test]
    fn the_artifact_is_deterministic_and_unpacks_to_the_same_adapter() {
        let a = adapter(4, BASE);
        let bytes = pack_adapter(&a);
        assert_eq!(pack_adapter(&a), bytes, "the same adapter packs to the same bytes");
        assert_eq!(bytes.len() % 4, 0);
        let dir = tempfile::tempdir().unwrap();
        let back = unpack_adapter(&bytes, &spec(), dir.path()).unwrap();
        assert_eq!(back, a);
        // Still a PEFT weights file: the config sits beside the `pt` format in the metadata.
        let (header, data) = split_safetensors(&bytes).unwrap();
        assert_eq!(header["__metadata__"]["format"], "pt");
        assert_eq!(header["__metadata__"][ADAPTER_CONFIG_KEY], a.config_json());
        assert_eq!(data, split_safetensors(&a.to_safetensors()).unwrap().1, "the tensors are PEFT's, untouched");
        // d = 32, four modules (c_attn 32->96, c_proj 32->32, c_fc 32->128, mlp c_proj 128->32):
        // r (in + out) = 4 * (128 + 64 + 160 + 160).
        assert_eq!(trainable_params(&a), 4 * 512);
        assert_eq!(a.config.targets.len(), LoraTarget::ALL.len());
    }

    #[test]
    fn an_honest_adapter_within_the_limits_passes() {
        let a = adapter(4, BASE);
        let bytes = pack_adapter(&a);
        assert_eq!(examine(&bytes, &truthful(&a, &bytes)), Ok(a));
    }

    #[test]
    fn an_adapter_over_the_rank_limit_scores_zero() {
        let a = adapter(8, BASE);
        let bytes = pack_adapter(&a);
        let err = examine(&bytes, &truthful(&a, &bytes)).unwrap_err();
        assert_eq!(err, "LoRA rank r = 8 is over the task's limit of 4");
    }

    #[test]
    fn an_adapter_over_the_parameter_limit_scores_zero() {
        let a = adapter(4, BASE);
        let bytes = pack_adapter(&a);
        let small = LanguageModelTask { max_trainable_params: 2_047, ..task() };
        let dir = tempfile::tempdir().unwrap();
        let err =
            examine_adapter(&bytes, &spec(), &small, &constraints(), &truthful(&a, &bytes), dir.path()).unwrap_err();
        assert_eq!(err, "the adapter has 2048 trainable parameters, over the task's limit of 2047");
    }

    #[test]
    fn an_adapter_for_another_base_scores_zero() {
        let a = adapter(4, [8u8; 32]);
        let bytes = pack_adapter(&a);
        let err = examine(&bytes, &truthful(&a, &bytes)).unwrap_err();
        assert!(err.starts_with(&format!("the adapter was made for the base with sha256 {}", hex::encode([8u8; 32]))));
    }

    #[test]
    fn an_adapter_with_a_nan_scores_zero() {
        let mut a = adapter(4, BASE);
        let at = a.modules[1].a.start + 5;
        a.params[at] = f32::NAN;
        let bytes = pack_adapter(&a);
        let err = examine(&bytes, &truthful(&a, &bytes)).unwrap_err();
        assert!(err.contains("NaN") || err.contains("finite"), "{err}");
    }

    #[test]
    fn an_adapter_whose_metadata_lies_or_that_is_no_artifact_scores_zero() {
        let a = adapter(4, BASE);
        let bytes = pack_adapter(&a);
        let lie = ModelMetadata { parameters: 100, ..truthful(&a, &bytes) };
        assert!(examine(&bytes, &lie).unwrap_err().contains("but its metadata says"));
        // PEFT's weights file alone: the config is missing.
        let bare = a.to_safetensors();
        assert!(examine(&bare, &truthful(&a, &bare)).unwrap_err().contains("carries no adapter_config.json"));
        assert!(examine(b"not a model", &truthful(&a, &bytes)).unwrap_err().contains("not safetensors"));
    }
}
