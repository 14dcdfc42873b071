//! The shape of a GPT-2-layout model: `gpt:layers=2,d=64,heads=4,ctx=128` as a spec string, and
//! Hugging Face's `config.json` (the keys `GPT2Config` reads) as the file form.

use std::fmt;
use std::path::Path;

use serde_json::{json, Value};

use crate::{Error, Result};

/// The byte-level vocabulary: one token per byte value.
pub const BYTE_VOCAB: usize = 256;
/// GPT-2's LayerNorm epsilon (`layer_norm_epsilon` in its config).
pub const GPT2_EPS: f32 = 1e-5;

/// A decoder-only transformer with GPT-2's architecture: learned positions, pre-LayerNorm blocks,
/// causal multi-head attention, a GELU (tanh form) MLP of width 4d, tied input/output embeddings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GptSpec {
    pub layers: usize,
    /// Embedding width (`n_embd`).
    pub d: usize,
    pub heads: usize,
    /// Longest sequence (`n_positions`): the rows of the position table.
    pub ctx: usize,
    pub vocab: usize,
    pub eps: f32,
}

/// Bounds that keep every index in u32 and every tensor within a storage binding on real GPUs;
/// GPT-2 medium (24 layers, d 1024, ctx 1024, vocab 50,257) is inside them.
const MAX_LAYERS: usize = 48;
const MAX_D: usize = 2048;
const MAX_CTX: usize = 2048;
const MAX_VOCAB: usize = 65_536;

impl GptSpec {
    /// Parses `gpt:layers=2,d=64,heads=4,ctx=128` with an optional `vocab=N` (default 256, the
    /// byte-level vocabulary). Keys may come in any order; each must appear once.
    pub fn parse(spec: &str) -> Result<Self> {
        let err = |reason: String| Error::ModelSpec { spec: spec.to_string(), reason };
        let rest = spec.trim().strip_prefix("gpt:").ok_or_else(|| {
            err("expected `gpt:layers=L,d=D,heads=H,ctx=T[,vocab=V]`, e.g. gpt:layers=2,d=64,heads=4,ctx=128".into())
        })?;
        let (mut layers, mut d, mut heads, mut ctx, mut vocab) = (None, None, None, None, None);
        for part in rest.split(',') {
            let (key, value) = part.split_once('=').ok_or_else(|| err(format!("{part:?} is not key=value")))?;
            let n = value.trim().parse::<usize>().map_err(|_| err(format!("{key} = {value:?} is not an integer")))?;
            let slot = match key.trim() {
                "layers" => &mut layers,
                "d" => &mut d,
                "heads" => &mut heads,
                "ctx" => &mut ctx,
                "vocab" => &mut vocab,
                other => return Err(err(format!("unknown key {other:?} (layers, d, heads, ctx, vocab)"))),
            };
            if slot.replace(n).is_some() {
                return Err(err(format!("{key} is given twice")));
            }
        }
        let need = |v: Option<usize>, key: &str| v.ok_or_else(|| err(format!("{key}= is missing")));
        let s = GptSpec {
            layers: need(layers, "layers")?,
            d: need(d, "d")?,
            heads: need(heads, "heads")?,
            ctx: need(ctx, "ctx")?,
            vocab: vocab.unwrap_or(BYTE_VOCAB),
            eps: GPT2_EPS,
        };
        s.check().map_err(err)?;
        Ok(s)
    }

    /// What every constructor checks: positive sizes within the bounds, heads dividing d.
    fn check(&self) -> std::result::Result<(), String> {
        let within = |name: &str, v: usize, max: usize| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} = {v} is outside 1..={max}"))
            }
        };
        within("layers", self.layers, MAX_LAYERS)?;
        within("d", self.d, MAX_D)?;
        within("heads", self.heads, self.d)?;
        within("ctx", self.ctx, MAX_CTX)?;
        within("vocab", self.vocab, MAX_VOCAB)?;
        if !self.d.is_multiple_of(self.heads) {
            return Err(format!("heads = {} does not divide d = {}", self.heads, self.d));
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(format!("layer_norm_epsilon = {} is not a positive number", self.eps));
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.d / self.heads
    }

    /// Trainable parameters (the tied output layer counted once).
    pub fn parameters(&self) -> usize {
        let d = self.d;
        let block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
        self.vocab * d + self.ctx * d + self.layers * block + 2 * d
    }

    /// The `config.json` Hugging Face's `GPT2LMHeadModel` loads (keys sorted: the same spec
    /// always writes the same bytes). Dropout is 0: the arena trains and scores deterministically.
    pub fn to_config_json(&self) -> String {
        let config = json!({
            "activation_function": "gelu_new",
            "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "initializer_range": 0.02,
            "layer_norm_epsilon": self.eps,
            "model_type": "gpt2",
            "n_ctx": self.ctx,
            "n_embd": self.d,
            "n_head": self.heads,
            "n_inner": null,
            "n_layer": self.layers,
            "n_positions": self.ctx,
            "resid_pdrop": 0.0,
            "scale_attn_weights": true,
            "tie_word_embeddings": true,
            "vocab_size": self.vocab,
        });
        serde_json::to_string_pretty(&config).expect("a JSON value serializes") + "\n"
    }

    /// Reads a `config.json`; `path` names it in errors. Refuses settings this implementation does
    /// not compute (another activation, an MLP width other than 4d, untied embeddings, attention
    /// scaled by layer index) rather than silently computing something else.
    pub fn from_config_json(text: &str, path: &Path) -> Result<Self> {
        let err = |reason: String| Error::ModelConfig { path: path.into(), reason };
        let v: Value = serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        let count = |key: &str| -> Result<usize> {
            match v.get(key) {
                None => Err(err(format!("{key} is missing"))),
                Some(n) => n
                    .as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| err(format!("{key} is {n}, not a non-negative integer"))),
            }
        };
        let eps = match v.get("layer_norm_epsilon") {
            None => GPT2_EPS,
            Some(e) => e.as_f64().ok_or_else(|| err(format!("layer_norm_epsilon is {e}, not a number")))? as f32,
        };
        let s = GptSpec {
            layers: count("n_layer")?,
            d: count("n_embd")?,
            heads: count("n_head")?,
            ctx: count("n_positions")?,
            vocab: count("vocab_size")?,
            eps,
        };
        s.check().map_err(err)?;
        let is = |key: &str, ok: &dyn Fn(&Value) -> bool, why: &str| match v.get(key) {
            Some(x) if !ok(x) => Err(err(format!("{key} = {x}: {why}"))),
            _ => Ok(()),
        };
        is(
            "activation_function",
            &|x| matches!(x.as_str(), Some("gelu_new" | "gelu_pytorch_tanh" | "gelu_fast")),
            "only GPT-2's tanh-approximated GELU (gelu_new) is implemented",
        )?;
        is("n_inner", &|x| x.is_null() || x.as_u64() == Some(4 * s.d as u64), "the MLP must be 4 * n_embd wide")?;
        is("tie_word_embeddings", &|x| x.as_bool() == Some(true), "the output layer must be tied to wte")?;
        is("model_type", &|x| x.as_str() == Some("gpt2"), "not a GPT-2 config")?;
        is("scale_attn_weights", &|x| x.as_bool() == Some(true), "attention is always scaled by 1/sqrt(head dim)")?;
        is("scale_attn_by_inverse_layer_idx", &|x| x.as_bool() == Some(false), "not implemented")?;
        Ok(s)
    }
}

impl fmt::Display for GptSpec {
    /// The canonical spec string (`vocab=` only when it is not the byte vocabulary).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gpt:layers={},d={},heads={},ctx={}", self.layers, self.d, self.heads, self.ctx)?;
        if self.vocab != BYTE_VOCAB {
            write!(f, ",vocab={}", self.vocab)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_strings_parse_validate_and_print_canonically() {
        let s = GptSpec::parse("gpt:layers=2,d=64,heads=4,ctx=128").unwrap();
        assert_eq!((s.layers, s.d, s.heads, s.ctx, s.vocab, s.head_dim()), (2, 64, 4, 128, 256, 16));
        assert_eq!(s.to_string(), "gpt:layers=2,d=64,heads=4,ctx=128");
        let small = GptSpec::parse("gpt:ctx=1024,d=768,heads=12,layers=12,vocab=50257").unwrap();
        assert_eq!(small.to_string(), "gpt:layers=12,d=768,heads=12,ctx=1024,vocab=50257");
        // GPT-2 small's published count: 124,439,808 parameters.
        assert_eq!(small.parameters(), 124_439_808);
        for bad in [
            "mlp:4",
            "gpt:layers=2,d=64,heads=5,ctx=128",
            "gpt:layers=2,d=64,heads=4",
            "gpt:layers=0,d=64,heads=4,ctx=128",
            "gpt:layers=2,d=64,heads=4,ctx=128,ctx=64",
            "gpt:layers=2,d=64,heads=4,ctx=128,width=3",
            "gpt:layers=2,d=x,heads=4,ctx=128",
            "gpt:layers=2,d=64,heads=4,ctx=99999",
        ] {
            assert!(matches!(GptSpec::parse(bad), Err(Error::ModelSpec { .. })), "{bad}");
        }
    }

    #[test]
    fn config_json_round_trips_and_refuses_what_is_not_gpt2() {
        let s = GptSpec::parse("gpt:layers=3,d=48,heads=6,ctx=40,vocab=300").unwrap();
        let text = s.to_config_json();
        assert_eq!(GptSpec::from_config_json(&text, Path::new("c")).unwrap(), s);
        // The keys of gpt2's own config.json (abridged, as published).
        let hf = r#"{"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
            "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768,
            "n_head": 12, "n_layer": 12, "n_positions": 1024, "vocab_size": 50257}"#;
        let g = GptSpec::from_config_json(hf, Path::new("c")).unwrap();
        assert_eq!(g.to_string(), "gpt:layers=12,d=768,heads=12,ctx=1024,vocab=50257");
        for (edit, needle) in [
            (r#""n_head": 12"#, "n_head is missing"),
            (r#""n_head": 7"#, "does not divide"),
            (r#""n_head": 12, "activation_function": "relu""#, "activation_function"),
            (r#""n_head": 12, "n_inner": 1000"#, "n_inner"),
            (r#""n_head": 12, "tie_word_embeddings": false"#, "tie_word_embeddings"),
            (r#""n_head": "12""#, "not a non-negative integer"),
        ] {
            let text = hf.replace(r#""n_head": 12,"#, "").replace(r#""n_layer""#, &format!("{edit}, \"n_layer\""));
            let text = if needle == "n_head is missing" { hf.replace(r#""n_head": 12,"#, "") } else { text };
            match GptSpec::from_config_json(&text, Path::new("c")) {
                Err(Error::ModelConfig { reason, .. }) => assert!(reason.contains(needle), "{reason} / {needle}"),
                other => panic!("{edit}: {other:?}"),
            }
        }
        assert!(matches!(GptSpec::from_config_json("{", Path::new("c")), Err(Error::ModelConfig { .. })));
    }
}
