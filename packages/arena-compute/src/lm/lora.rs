//! LoRA adapters on a frozen GPT-2-layout model, in PEFT's file layout.
//!
//! A module with Conv1D weight W [in, out] (y = x W + b) gets two matrices, PEFT's
//! `lora_A.weight` A [r, in] and `lora_B.weight` B [out, r], and computes
//! y = x W + b + s (x Aᵀ) Bᵀ with s = alpha / r (alpha / √r with `use_rslora`). Merging adds
//! s (B A)ᵀ, an [in, out] matrix, to W: PEFT's `transpose(B @ A, fan_in_fan_out) * scaling` for
//! GPT-2's Conv1D, whose `fan_in_fan_out` is true. A starts uniform in ±1/√in (PEFT's
//! `kaiming_uniform_(a = √5)` bound), B at zero, so a new adapter leaves the base's outputs
//! unchanged.
//!
//! Files: `adapter_config.json` (`peft_type: "LORA"`, `r`, `lora_alpha`, `target_modules`,
//! `fan_in_fan_out: true`, `bias: "none"`, and `base_model_name_or_path` holding the sha256 of the
//! base's `model.safetensors`, so an adapter for another base is refused) and
//! `adapter_model.safetensors` with PEFT's names,
//! `base_model.model.transformer.h.{i}.attn.c_attn.lora_A.weight` and so on. `target_modules`
//! follows PEFT's matching: a module is adapted when its name equals a target or ends with
//! `.` + target, so `c_proj` adapts both `attn.c_proj` and `mlp.c_proj`; we write the
//! unambiguous `attn.c_attn`-style names.

use std::ops::Range;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::spec::GptSpec;
use super::weights::{BlockLayout, GptWeights};
use crate::kernels::MatmulShape;
use crate::reference::matmul;
use crate::rng::SplitMix64;
use crate::{Error, Result};

/// The adapter's file names in PEFT's layout.
pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";
/// The prefix PEFT gives every tensor of a `PeftModelForCausalLM` over `GPT2LMHeadModel`.
const PEFT_PREFIX: &str = "base_model.model.transformer.";
/// Where each matrix starts, in floats (the base's alignment).
const ALIGN: usize = 64;

/// A block's linear layer that can carry an adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoraTarget {
    /// `attn.c_attn`, the fused q, k, v projection [d, 3d].
    AttnQkv,
    /// `attn.c_proj` [d, d].
    AttnProj,
    /// `mlp.c_fc` [d, 4d].
    MlpFc,
    /// `mlp.c_proj` [4d, d].
    MlpProj,
}

impl LoraTarget {
    pub const ALL: [LoraTarget; 4] =
        [LoraTarget::AttnQkv, LoraTarget::AttnProj, LoraTarget::MlpFc, LoraTarget::MlpProj];

    /// The module's name inside a block, as GPT-2 names it.
    pub fn module(self) -> &'static str {
        match self {
            LoraTarget::AttnQkv => "attn.c_attn",
            LoraTarget::AttnProj => "attn.c_proj",
            LoraTarget::MlpFc => "mlp.c_fc",
            LoraTarget::MlpProj => "mlp.c_proj",
        }
    }

    /// (in, out) features for a model of width d.
    pub fn dims(self, d: usize) -> (usize, usize) {
        match self {
            LoraTarget::AttnQkv => (d, 3 * d),
            LoraTarget::AttnProj => (d, d),
            LoraTarget::MlpFc => (d, 4 * d),
            LoraTarget::MlpProj => (4 * d, d),
        }
    }

    /// The base weight this target adapts.
    pub fn base_weight(self, b: &BlockLayout) -> &Range<usize> {
        match self {
            LoraTarget::AttnQkv => &b.attn_w,
            LoraTarget::AttnProj => &b.proj_w,
            LoraTarget::MlpFc => &b.fc_w,
            LoraTarget::MlpProj => &b.mlp_proj_w,
        }
    }

    /// PEFT's rule: `name` (e.g. `h.0.mlp.c_proj`) is adapted by target `t` when it equals `t` or
    /// ends with `.t`.
    fn matched_by(self, layer: usize, targets: &[String]) -> bool {
        let name = format!("h.{layer}.{}", self.module());
        let full = format!("transformer.{name}");
        targets.iter().any(|t| name == *t || full == *t || name.ends_with(&format!(".{t}")))
    }
}

/// An adapter's shape: rank, alpha and which modules of every block it adapts.
#[derive(Clone, Debug, PartialEq)]
pub struct LoraConfig {
    pub r: usize,
    pub alpha: f32,
    pub targets: Vec<LoraTarget>,
    /// PEFT's `use_rslora`: scale by alpha / √r instead of alpha / r.
    pub rslora: bool,
}

impl LoraConfig {
    /// `r=8,alpha=16` adapts the attention projections (`attn.c_attn`, `attn.c_proj`);
    /// `targets=attn+mlp` (or `targets=all`) adds the MLP's `c_fc` and `c_proj`.
    pub fn parse(text: &str) -> Result<LoraConfig> {
        let err = |reason: String| Error::Config(format!("LoRA settings {text:?}: {reason}"));
        let (mut r, mut alpha, mut targets) = (None, None, vec![LoraTarget::AttnQkv, LoraTarget::AttnProj]);
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| err(format!("{part:?} is not key=value")))?;
            match key.trim() {
                "r" => r = Some(value.parse::<usize>().map_err(|_| err(format!("r = {value:?} is not an integer")))?),
                "alpha" => {
                    alpha = Some(value.parse::<f32>().map_err(|_| err(format!("alpha = {value:?} is not a number")))?)
                }
                "targets" => {
                    targets = match value.trim() {
                        "attn" => vec![LoraTarget::AttnQkv, LoraTarget::AttnProj],
                        "attn+mlp" | "all" => LoraTarget::ALL.to_vec(),
                        other => return Err(err(format!("targets = {other:?}: expected attn, attn+mlp or all"))),
                    }
                }
                other => return Err(err(format!("unknown key {other:?} (r, alpha, targets)"))),
            }
        }
        let r = r.ok_or_else(|| err("r= is missing".into()))?;
        let cfg = LoraConfig { r, alpha: alpha.unwrap_or(2.0 * r as f32), targets, rslora: false };
        if r == 0 || !cfg.alpha.is_finite() || cfg.alpha <= 0.0 {
            return Err(err("r must be at least 1 and alpha a positive number".into()));
        }
        Ok(cfg)
    }

    /// The factor on B A: alpha / r, or alpha / √r with rsLoRA.
    pub fn scale(&self) -> f32 {
        if self.rslora {
            self.alpha / (self.r as f32).sqrt()
        } else {
            self.alpha / self.r as f32
        }
    }
}

/// Where one adapted module's A and B live in the adapter's flat buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct LoraModule {
    pub layer: usize,
    pub target: LoraTarget,
    pub fan_in: usize,
    pub fan_out: usize,
    /// A [r, in], row-major.
    pub a: Range<usize>,
    /// B [out, r], row-major.
    pub b: Range<usize>,
}

/// A LoRA adapter for one base model.
#[derive(Clone, Debug, PartialEq)]
pub struct LoraAdapter {
    pub config: LoraConfig,
    /// The base's shape.
    pub spec: GptSpec,
    /// sha256 of the base's `model.safetensors`.
    pub base_sha256: String,
    /// Block by block, targets in [`LoraTarget::ALL`]'s order.
    pub modules: Vec<LoraModule>,
    /// Every A and B, one after another, each at a multiple of 64 floats (256 bytes: the device
    /// binds each on its own, as the base's tensors); the padding is zero and stays zero.
    pub params: Vec<f32>,
}

fn layout(
    spec: &GptSpec,
    config: &LoraConfig,
    adapted: impl Fn(usize, LoraTarget) -> bool,
) -> (Vec<LoraModule>, usize) {
    let mut at = 0;
    let mut modules = Vec::new();
    for layer in 0..spec.layers {
        for target in LoraTarget::ALL {
            if !adapted(layer, target) {
                continue;
            }
            let (fan_in, fan_out) = target.dims(spec.d);
            let a = at..at + config.r * fan_in;
            let b_start = a.end.next_multiple_of(ALIGN);
            let b = b_start..b_start + fan_out * config.r;
            at = b.end.next_multiple_of(ALIGN);
            modules.push(LoraModule { layer, target, fan_in, fan_out, a, b });
        }
    }
    (modules, at)
}

impl LoraAdapter {
    /// A new adapter: A uniform in ±1/√in from `seed`, B zero.
    pub fn init(spec: &GptSpec, config: &LoraConfig, base_sha256: &str, seed: u64) -> LoraAdapter {
        let (modules, len) = layout(spec, config, |_, t| config.targets.contains(&t));
        let mut params = vec![0.0f32; len];
        let mut rng = SplitMix64::new(seed ^ 0x4C6F_5241);
        for m in &modules {
            let bound = 1.0 / (m.fan_in as f32).sqrt();
            params[m.a.clone()].iter_mut().for_each(|p| *p = bound * (2.0 * rng.unit_f32() - 1.0));
        }
        LoraAdapter { config: config.clone(), spec: *spec, base_sha256: base_sha256.to_string(), modules, params }
    }

    /// The module adapting `target` of block `layer`, if any.
    pub fn module(&self, layer: usize, target: LoraTarget) -> Option<&LoraModule> {
        self.modules.iter().find(|m| m.layer == layer && m.target == target)
    }

    pub fn get(&self, r: &Range<usize>) -> &[f32] {
        &self.params[r.clone()]
    }

    /// Trainable parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Fails unless this adapter was made for the base whose weights file has `base_sha256`.
    pub fn check_base(&self, base_sha256: &str, path: &Path) -> Result<()> {
        if self.base_sha256 == base_sha256 {
            return Ok(());
        }
        Err(Error::ModelMetadata {
            path: path.into(),
            reason: format!(
                "the adapter was made for the base model with sha256 {} (base_model_name_or_path), not for this \
                 base ({base_sha256}); train it again on this base",
                self.base_sha256
            ),
        })
    }

    /// The base with the adapter folded in: W + s (B A)ᵀ for every adapted module.
    pub fn merge(&self, base: &GptWeights) -> Result<GptWeights> {
        if base.spec != self.spec {
            return Err(Error::Config(format!("an adapter for {} cannot merge into {}", self.spec, base.spec)));
        }
        let mut merged = base.clone();
        let s = self.config.scale();
        let r = self.config.r;
        for m in &self.modules {
            // (B A)ᵀ = Aᵀ Bᵀ: [in, r] x [r, out], A read transposed, B read transposed.
            let shape = MatmulShape {
                m: m.fan_in,
                n: m.fan_out,
                k: r,
                a_row_stride: 1,
                a_col_stride: m.fan_in,
                b_row_stride: 1,
                b_col_stride: r,
            };
            let mut delta = vec![0.0f32; m.fan_in * m.fan_out];
            matmul(&shape, self.get(&m.a), self.get(&m.b), &mut delta);
            let w = m.target.base_weight(&base.layout.blocks[m.layer]).clone();
            for (p, dv) in merged.params[w].iter_mut().zip(&delta) {
                *p += s * dv;
            }
        }
        Ok(merged)
    }

    /// Every tensor as (PEFT name, shape, place), block by block.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, Range<usize>)> {
        let r = self.config.r;
        let mut out = Vec::new();
        for m in &self.modules {
            let name = format!("{PEFT_PREFIX}h.{}.{}", m.layer, m.target.module());
            out.push((format!("{name}.lora_A.weight"), vec![r, m.fan_in], m.a.clone()));
            out.push((format!("{name}.lora_B.weight"), vec![m.fan_out, r], m.b.clone()));
        }
        out
    }

    /// `adapter_config.json`, as PEFT's `LoraConfig.save_pretrained` writes it (the keys that
    /// matter for GPT-2; PEFT fills the rest with its defaults when it loads).
    pub fn config_json(&self) -> String {
        let mut targets: Vec<&str> = self.config.targets.iter().map(|t| t.module()).collect();
        targets.sort();
        let v = json!({
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": self.base_sha256,
            "r": self.config.r,
            "lora_alpha": self.config.alpha,
            "lora_dropout": 0.0,
            "target_modules": targets,
            "fan_in_fan_out": true,
            "bias": "none",
            "use_rslora": self.config.rslora,
            "use_dora": false,
            "modules_to_save": null,
            "layers_to_transform": null,
            "rank_pattern": {},
            "alpha_pattern": {},
            "init_lora_weights": true,
            "inference_mode": true,
        });
        serde_json::to_string_pretty(&v).expect("JSON serializes")
    }

    /// The `adapter_model.safetensors` bytes (our deterministic writer, as for the base).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let tensors: Vec<(String, Vec<usize>, &[f32])> =
            self.tensors().into_iter().map(|(name, shape, r)| (name, shape, &self.params[r])).collect();
        crate::tensor_file::f32_safetensors(serde_json::json!({ "format": "pt" }), &tensors)
    }

    /// Writes `dir/adapter_config.json` and `dir/adapter_model.safetensors`; returns the sha256 of
    /// the weights file.
    pub fn save(&self, dir: &Path) -> Result<String> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
        let config = dir.join(ADAPTER_CONFIG_FILE);
        std::fs::write(&config, self.config_json()).map_err(|e| Error::io(&config, &e))?;
        let path = dir.join(ADAPTER_WEIGHTS_FILE);
        let bytes = self.to_safetensors();
        std::fs::write(&path, &bytes).map_err(|e| Error::io(&path, &e))?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// Reads a PEFT adapter directory for a base of shape `spec`; returns it and the sha256 of its
    /// weights file. Checks the config (LoRA, no bias, DoRA, rank or alpha patterns, layer subsets
    /// or extra saved modules), every expected tensor's presence, shape, dtype and finiteness, and
    /// that no other tensor is present. Whether it fits a given base file is [`Self::check_base`]'s
    /// job; whether its rank is allowed, [`check_max_rank`]'s.
    pub fn load(dir: &Path, spec: &GptSpec) -> Result<(LoraAdapter, String)> {
        let config_path = dir.join(ADAPTER_CONFIG_FILE);
        let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, &e))?;
        let (config, base_sha256, names) = parse_config(&text, &config_path)?;
        let (modules, len) = layout(spec, &config, |layer, t| t.matched_by(layer, &names));
        if modules.is_empty() {
            return Err(Error::ModelMetadata {
                path: config_path,
                reason: format!("target_modules {names:?} match no module of {spec}"),
            });
        }
        let mut targets: Vec<LoraTarget> = modules.iter().map(|m| m.target).collect();
        targets.sort();
        targets.dedup();
        let config = LoraConfig { targets, ..config };
        let path = dir.join(ADAPTER_WEIGHTS_FILE);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, &e))?;
        let bad = |reason: String| Error::NotSafetensors { path: path.clone(), reason };
        let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let mut adapter = LoraAdapter { config, spec: *spec, base_sha256, modules, params: vec![0.0; len] };
        let mut names_in_file: Vec<String> = st.names().into_iter().map(String::from).collect();
        for (name, shape, r) in adapter.tensors() {
            let view =
                st.tensor(&name).map_err(|_| Error::MissingTensor { path: path.clone(), tensor: name.clone() })?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(bad(format!("tensor {name:?} has dtype {:?}; only F32 is supported", view.dtype())));
            }
            if view.shape() != shape {
                return Err(Error::TensorShape {
                    path: path.clone(),
                    tensor: name,
                    expected: shape,
                    found: view.shape().to_vec(),
                });
            }
            let data: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFinite { path: path.clone(), tensor: name, index, value });
            }
            adapter.params[r].copy_from_slice(&data);
            names_in_file.retain(|n| *n != name);
        }
        if let Some(extra) = names_in_file.first() {
            return Err(Error::ModelMetadata {
                path: path.clone(),
                reason: format!(
                    "unexpected tensor {extra:?}: not a LoRA matrix of the modules adapter_config.json targets"
                ),
            });
        }
        Ok((adapter, hex::encode(Sha256::digest(&bytes))))
    }
}

/// The rank bound a task sets: refuses an adapter whose rank exceeds `max_rank`.
pub fn check_max_rank(adapter: &LoraAdapter, max_rank: usize, path: &Path) -> Result<()> {
    if adapter.config.r <= max_rank {
        return Ok(());
    }
    Err(Error::ModelMetadata {
        path: path.into(),
        reason: format!(
            "LoRA rank r = {} is over this task's limit of {max_rank}; train with r <= {max_rank}",
            adapter.config.r
        ),
    })
}

/// (config, base sha256, target_modules) from `adapter_config.json`.
fn parse_config(text: &str, path: &Path) -> Result<(LoraConfig, String, Vec<String>)> {
    let bad = |reason: String| Error::ModelMetadata { path: path.into(), reason };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let str_of = |key: &str| v.get(key).and_then(Value::as_str);
    if str_of("peft_type") != Some("LORA") {
        return Err(bad(format!("peft_type is {:?}, not \"LORA\"", v.get("peft_type"))));
    }
    let r = v
        .get("r")
        .and_then(Value::as_u64)
        .filter(|&r| r > 0)
        .ok_or_else(|| bad("r is not a positive integer".into()))?;
    let alpha = v
        .get("lora_alpha")
        .and_then(Value::as_f64)
        .filter(|a| a.is_finite() && *a > 0.0)
        .ok_or_else(|| bad("lora_alpha is not a positive number".into()))?;
    let base = str_of("base_model_name_or_path")
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            bad("base_model_name_or_path must hold the sha256 of the base's model.safetensors (64 hex digits)".into())
        })?
        .to_ascii_lowercase();
    let names: Vec<String> = match v.get("target_modules") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
        Some(Value::String(s)) => {
            return Err(bad(format!("target_modules is the regular expression {s:?}; list the module names instead")))
        }
        _ => return Err(bad("target_modules is missing".into())),
    };
    if !matches!(v.get("bias").and_then(Value::as_str), None | Some("none")) {
        return Err(bad("bias must be \"none\": adapters that train biases are not supported".into()));
    }
    let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("use_dora") {
        return Err(bad("use_dora is true: DoRA adapters are not supported".into()));
    }
    let empty = |key: &str| match v.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    for key in ["rank_pattern", "alpha_pattern", "layers_to_transform", "modules_to_save"] {
        if !empty(key) {
            return Err(bad(format!(
                "{key} is set: per-module ranks, layer subsets and saved modules are not supported"
            )));
        }
    }
    let config = LoraConfig { r: r as usize, alpha: alpha as f32, targets: Vec::new(), rslora: flag("use_rslora") };
    Ok((config, base, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_scale() {
        let c = LoraConfig::parse("r=8,alpha=16").unwrap();
        assert_eq!((c.r, c.alpha, c.scale()), (8, 16.0, 2.0));
        assert_eq!(c.targets, [LoraTarget::AttnQkv, LoraTarget::AttnProj]);
        assert_eq!(LoraConfig::parse("r=4,targets=all").unwrap().targets.len(), 4);
        assert_eq!(LoraConfig::parse("r=4").unwrap().alpha, 8.0);
        for bad in ["alpha=16", "r=0", "r=8,alpha=-1", "r=8,targets=q", "r=8,rank=2"] {
            assert!(LoraConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn peft_target_matching_follows_suffixes() {
        let c_proj = vec!["c_proj".to_string()];
        assert!(LoraTarget::AttnProj.matched_by(0, &c_proj) && LoraTarget::MlpProj.matched_by(3, &c_proj));
        assert!(!LoraTarget::AttnQkv.matched_by(0, &c_proj));
        let attn = vec!["attn.c_proj".to_string()];
        assert!(LoraTarget::AttnProj.matched_by(1, &attn) && !LoraTarget::MlpProj.matched_by(1, &attn));
    }
}
