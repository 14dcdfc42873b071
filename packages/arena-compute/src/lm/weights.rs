//! The parameters of a GPT-2-layout model: one flat f32 buffer (what the device holds and the
//! optimizer walks), the place of each named tensor in it, seeded initialization, and the Hugging
//! Face directory layout (`config.json` + `model.safetensors` with GPT-2's tensor names, Conv1D
//! weights stored `[in, out]`, y = x W + b), so real gpt2 / distilgpt2 checkpoints load unchanged.
//!
//! Layout: every tensor starts at a multiple of 64 floats (256 bytes, the largest storage-offset
//! alignment an adapter may ask for) so the device can bind each on its own; padding is zero and
//! its gradient is zero, so it stays zero. The weight-decayed tensors (embeddings and the four
//! matrices of each block) come first and the biases and LayerNorm parameters after: AdamW decays
//! the prefix `..decay_len`, with no mask.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::spec::GptSpec;
use crate::rng::SplitMix64;
use crate::{Error, Result};

const ALIGN: usize = 64;
/// The file names of Hugging Face's layout.
pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Where one block's tensors live in the flat buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockLayout {
    pub ln_1_w: Range<usize>,
    pub ln_1_b: Range<usize>,
    pub attn_w: Range<usize>,
    pub attn_b: Range<usize>,
    pub proj_w: Range<usize>,
    pub proj_b: Range<usize>,
    pub ln_2_w: Range<usize>,
    pub ln_2_b: Range<usize>,
    pub fc_w: Range<usize>,
    pub fc_b: Range<usize>,
    pub mlp_proj_w: Range<usize>,
    pub mlp_proj_b: Range<usize>,
}

/// Where every tensor lives in the flat buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub wte: Range<usize>,
    pub wpe: Range<usize>,
    pub blocks: Vec<BlockLayout>,
    pub ln_f_w: Range<usize>,
    pub ln_f_b: Range<usize>,
    /// Elements AdamW decays: the embeddings and matrices, which come first.
    pub decay_len: usize,
    /// The flat buffer's length.
    pub len: usize,
}

impl Layout {
    pub fn new(s: &GptSpec) -> Layout {
        let mut at = 0;
        let mut take = |n: usize| {
            let r = at..at + n;
            at = (at + n).next_multiple_of(ALIGN);
            r
        };
        let d = s.d;
        let (wte, wpe) = (take(s.vocab * d), take(s.ctx * d));
        let matrices: Vec<[Range<usize>; 4]> =
            (0..s.layers).map(|_| [take(d * 3 * d), take(d * d), take(d * 4 * d), take(4 * d * d)]).collect();
        let decay_len = matrices.last().map_or(wpe.end, |m| m[3].end);
        let blocks = matrices
            .into_iter()
            .map(|[attn_w, proj_w, fc_w, mlp_proj_w]| BlockLayout {
                ln_1_w: take(d),
                ln_1_b: take(d),
                attn_w,
                attn_b: take(3 * d),
                proj_w,
                proj_b: take(d),
                ln_2_w: take(d),
                ln_2_b: take(d),
                fc_w,
                fc_b: take(4 * d),
                mlp_proj_w,
                mlp_proj_b: take(d),
            })
            .collect();
        let (ln_f_w, ln_f_b) = (take(d), take(d));
        Layout { wte, wpe, blocks, ln_f_w, ln_f_b, decay_len, len: at }
    }

    /// Every tensor as (GPT-2 name, shape, place), in file order.
    pub fn tensors(&self, s: &GptSpec) -> Vec<(String, Vec<usize>, Range<usize>)> {
        let d = s.d;
        let mut out = vec![
            ("wte.weight".to_string(), vec![s.vocab, d], self.wte.clone()),
            ("wpe.weight".to_string(), vec![s.ctx, d], self.wpe.clone()),
        ];
        for (i, b) in self.blocks.iter().enumerate() {
            for (name, shape, r) in [
                ("ln_1.weight", vec![d], &b.ln_1_w),
                ("ln_1.bias", vec![d], &b.ln_1_b),
                ("attn.c_attn.weight", vec![d, 3 * d], &b.attn_w),
                ("attn.c_attn.bias", vec![3 * d], &b.attn_b),
                ("attn.c_proj.weight", vec![d, d], &b.proj_w),
                ("attn.c_proj.bias", vec![d], &b.proj_b),
                ("ln_2.weight", vec![d], &b.ln_2_w),
                ("ln_2.bias", vec![d], &b.ln_2_b),
                ("mlp.c_fc.weight", vec![d, 4 * d], &b.fc_w),
                ("mlp.c_fc.bias", vec![4 * d], &b.fc_b),
                ("mlp.c_proj.weight", vec![4 * d, d], &b.mlp_proj_w),
                ("mlp.c_proj.bias", vec![d], &b.mlp_proj_b),
            ] {
                out.push((format!("h.{i}.{name}"), shape, r.clone()));
            }
        }
        out.push(("ln_f.weight".to_string(), vec![d], self.ln_f_w.clone()));
        out.push(("ln_f.bias".to_string(), vec![d], self.ln_f_b.clone()));
        out
    }
}

/// A model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct GptWeights {
    pub spec: GptSpec,
    pub layout: Layout,
    /// `layout.len` floats; padding between tensors is zero.
    pub params: Vec<f32>,
}

/// A draw from N(0, 1) approximated by Irwin-Hall (the sum of 12 uniforms, minus 6): additions
/// only, so the same seed gives the same bits on every platform (no libm in the loop).
fn normal(rng: &mut SplitMix64) -> f32 {
    (0..12).map(|_| rng.unit_f32()).sum::<f32>() - 6.0
}

impl GptWeights {
    /// GPT-2's initialization: embeddings and matrices N(0, 0.02), the two projections back into
    /// the residual stream N(0, 0.02 / sqrt(2 layers)), biases 0, LayerNorm weights 1.
    pub fn init(spec: &GptSpec, seed: u64) -> GptWeights {
        let layout = Layout::new(spec);
        let mut params = vec![0.0f32; layout.len];
        let mut rng = SplitMix64::new(seed);
        let residual = 0.02 / (2.0 * spec.layers as f32).sqrt();
        let mut fill =
            |r: &Range<usize>, std: f32| params[r.clone()].iter_mut().for_each(|p| *p = std * normal(&mut rng));
        fill(&layout.wte, 0.02);
        fill(&layout.wpe, 0.02);
        for b in &layout.blocks {
            fill(&b.attn_w, 0.02);
            fill(&b.proj_w, residual);
            fill(&b.fc_w, 0.02);
            fill(&b.mlp_proj_w, residual);
        }
        for r in layout.blocks.iter().flat_map(|b| [&b.ln_1_w, &b.ln_2_w]).chain([&layout.ln_f_w]) {
            params[r.clone()].fill(1.0);
        }
        GptWeights { spec: *spec, layout, params }
    }

    /// A tensor by its range.
    pub fn get(&self, r: &Range<usize>) -> &[f32] {
        &self.params[r.clone()]
    }

    /// The `model.safetensors` bytes: the `pt` metadata Hugging Face's loader requires, tensors
    /// in layout order. Our own writer (the safetensors crate orders its header by a HashMap):
    /// the same weights always give the same bytes.
    pub fn to_safetensors(&self) -> Vec<u8> {
        let tensors: Vec<(String, Vec<usize>, &[f32])> = self
            .layout
            .tensors(&self.spec)
            .into_iter()
            .map(|(name, shape, r)| (name, shape, &self.params[r]))
            .collect();
        crate::tensor_file::f32_safetensors(serde_json::json!({ "format": "pt" }), &tensors)
    }

    /// Writes `dir/config.json` and `dir/model.safetensors` (creating `dir`); returns the sha256
    /// of the weights file, the model's identity.
    pub fn save(&self, dir: &Path) -> Result<String> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
        let config = dir.join(CONFIG_FILE);
        std::fs::write(&config, self.spec.to_config_json()).map_err(|e| Error::io(&config, &e))?;
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = self.to_safetensors();
        std::fs::write(&weights, &bytes).map_err(|e| Error::io(&weights, &e))?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// Reads a Hugging Face GPT-2 directory; returns the weights and the sha256 of the weights file.
    pub fn load(dir: &Path) -> Result<(GptWeights, String)> {
        let config = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config).map_err(|e| Error::io(&config, &e))?;
        let spec = GptSpec::from_config_json(&text, &config)?;
        let path = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, &e))?;
        let weights = GptWeights::from_safetensors(&spec, &bytes, &path)?;
        Ok((weights, hex::encode(Sha256::digest(&bytes))))
    }

    /// Parses weights for `spec` (from config.json); `path` names the file in errors. Accepts
    /// GPT-2's names with or without the `transformer.` prefix of `GPT2LMHeadModel` checkpoints,
    /// skips the attention-mask buffers old checkpoints carry (`attn.bias` of shape [1, 1, n, n],
    /// `attn.masked_bias`) and an `lm_head.weight` equal to `wte.weight` (the tie, stored).
    /// Refuses any other tensor, a missing one, a shape that disagrees with config.json, a dtype
    /// other than F32, and NaN or infinite values.
    pub fn from_safetensors(spec: &GptSpec, bytes: &[u8], path: &Path) -> Result<GptWeights> {
        let bad = |reason: String| Error::NotSafetensors { path: path.into(), reason };
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut by_name = BTreeMap::new();
        for (name, view) in st.tensors() {
            let short = name.strip_prefix("transformer.").unwrap_or(&name).to_string();
            if by_name.insert(short.clone(), view).is_some() {
                return Err(Error::ModelMetadata {
                    path: path.into(),
                    reason: format!("tensor {short:?} appears twice"),
                });
            }
        }
        let layout = Layout::new(spec);
        let mut params = vec![0.0f32; layout.len];
        for (name, shape, r) in layout.tensors(spec) {
            let view = by_name
                .remove(&name)
                .ok_or_else(|| Error::MissingTensor { path: path.into(), tensor: name.clone() })?;
            let data = f32_data(&view, &name, &shape, path)?;
            params[r].copy_from_slice(&data);
        }
        for (name, view) in by_name {
            let is_mask =
                name.starts_with("h.") && (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"));
            if is_mask && view.shape().len() != 1 {
                continue;
            }
            if name == "lm_head.weight" {
                let data = f32_data(&view, &name, &[spec.vocab, spec.d], path)?;
                if data.as_slice() == &params[layout.wte.clone()] {
                    continue;
                }
                return Err(Error::ModelMetadata {
                    path: path.into(),
                    reason: "lm_head.weight differs from wte.weight: GPT-2 ties them, untied heads are not supported"
                        .into(),
                });
            }
            return Err(Error::ModelMetadata {
                path: path.into(),
                reason: format!("unexpected tensor {name:?}: not part of {spec} (as config.json describes it)"),
            });
        }
        Ok(GptWeights { spec: *spec, layout, params })
    }
}

/// A tensor's values, checked for dtype, shape and finiteness.
fn f32_data(view: &safetensors::tensor::TensorView, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f32>> {
    if view.dtype() != safetensors::Dtype::F32 {
        return Err(Error::NotSafetensors {
            path: path.into(),
            reason: format!("tensor {name:?} has dtype {:?}; only F32 is supported", view.dtype()),
        });
    }
    if view.shape() != shape {
        return Err(Error::TensorShape {
            path: path.into(),
            tensor: name.to_string(),
            expected: shape.to_vec(),
            found: view.shape().to_vec(),
        });
    }
    let data: Vec<f32> = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite { path: path.into(), tensor: name.to_string(), index, value });
    }
    Ok(data)
}
