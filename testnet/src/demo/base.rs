//! The base of the demo's language-model task: a tiny byte-level GPT pretrained once on
//! `data/shakespeare.txt` and cached outside the demo's folder, so that the next demo (and a fresh
//! clone on the same machine) reuses it instead of pretraining again.
//!
//! The cache is `${ARENA_CACHE:-~/.cache/arena}/demo-base/<key>/`: `config.json` and
//! `model.safetensors` as `gpu-worker pretrain` writes them, and `recipe.json` saying how they were
//! made. The key hashes everything that determines the weights: [`RECIPE_VERSION`], the
//! architecture, the corpus's sha256 and every field of the training configuration. (Not the
//! device: lavapipe and a real GPU round differently, but either's result is a base made by the
//! recipe, and the task commits to whichever file is cached.) A base is written under a
//! temporary name and renamed into place, so a demo killed while pretraining leaves no half base
//! behind, only a `.partial-*` folder that is never read.

use std::path::{Path, PathBuf};

use gpu_worker::lm::{GptSpec, GptWeights, LmTrainConfig, TextCorpus, WEIGHTS_FILE};
use gpu_worker::{Backend, Engine};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::TestnetError;
use crate::repo;

/// Bump when a change to the pretraining code makes different weights from the same recipe: the
/// key cannot see code.
const RECIPE_VERSION: u32 = 1;

/// What determines the base's weights.
#[derive(Clone, Debug, Serialize)]
pub struct BaseRecipe {
    pub architecture: String,
    /// The pretraining text, relative to the repository root.
    pub corpus: PathBuf,
    pub steps: usize,
    /// Windows of ctx + 1 bytes per step.
    pub batch: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl BaseRecipe {
    /// The demo's: `gpt:layers=2,d=32,heads=2,ctx=64` (35,712 parameters) for 600 steps on the
    /// Shakespeare text, 36 s on lavapipe (3.61 bits per byte on its last 1%). Smaller than
    /// `d=64,ctx=128` for time: that size fine-tuned 20 steps in 31-43 s with the demo's other
    /// nodes on the 2 cores, past a submission phase, where this one takes ~3 s alone.
    pub fn demo() -> Self {
        BaseRecipe {
            architecture: "gpt:layers=2,d=32,heads=2,ctx=64".into(),
            corpus: "data/shakespeare.txt".into(),
            steps: 600,
            batch: 8,
            learning_rate: 5e-3,
            seed: 1,
        }
    }

    fn train_config(&self) -> LmTrainConfig {
        LmTrainConfig {
            steps: self.steps,
            batch: self.batch,
            lr: self.learning_rate,
            warmup: (self.steps / 10).max(1),
            seed: self.seed,
            ..LmTrainConfig::default()
        }
    }

    /// The cache key. The training configuration enters whole, through its `Debug` form, so that
    /// a field arena-compute adds to it (or a default it changes) makes a new key.
    fn key(&self, corpus_sha256: &str) -> String {
        let what = format!("v{RECIPE_VERSION}\n{}\n{corpus_sha256}\n{:?}", self.architecture, self.train_config());
        hex::encode(&Sha256::digest(what.as_bytes())[..8])
    }
}

/// The base, ready for the task.
pub struct CachedBase {
    pub weights: GptWeights,
    /// The cache folder (config.json, model.safetensors, recipe.json).
    pub dir: PathBuf,
    /// sha256 of model.safetensors: what the task commits to.
    pub sha256: String,
    /// True when an earlier run had cached it; false when this run pretrained it.
    pub reused: bool,
}

impl CachedBase {
    pub fn weights_file(&self) -> PathBuf {
        self.dir.join(WEIGHTS_FILE)
    }
}

/// `$ARENA_CACHE`, else `~/.cache/arena`.
pub fn cache_root() -> Result<PathBuf, TestnetError> {
    if let Some(dir) = std::env::var_os("ARENA_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| TestnetError::Data {
        path: "~/.cache/arena".into(),
        reason: "HOME is not set: set ARENA_CACHE to a folder for the demo's cached base".into(),
    })?;
    Ok(PathBuf::from(home).join(".cache/arena"))
}

/// The base of `recipe` from the cache under `root`, pretrained on `backend` and cached first if
/// it is not there.
pub fn cached_base(recipe: &BaseRecipe, root: &Path, backend: &Backend) -> Result<CachedBase, TestnetError> {
    let corpus = TextCorpus::from_file(&repo::resolve(&recipe.corpus))?;
    let corpus_sha256 = hex::encode(Sha256::digest(&corpus.bytes));
    let key = recipe.key(&corpus_sha256);
    let dir = root.join("demo-base").join(&key);
    let reused = dir.join(WEIGHTS_FILE).is_file();
    if !reused {
        let partial = root.join("demo-base").join(format!(".partial-{key}-{}", std::process::id()));
        pretrain_into(recipe, &corpus, &corpus_sha256, backend, &partial)?;
        if let Err(e) = std::fs::rename(&partial, &dir) {
            // Another demo cached the same key meanwhile: theirs is as good, and is the one kept.
            std::fs::remove_dir_all(&partial).ok();
            if !dir.join(WEIGHTS_FILE).is_file() {
                return Err(TestnetError::Io { context: format!("moving the base into {}", dir.display()), source: e });
            }
        }
    }
    let (weights, sha256) = GptWeights::load(&dir).map_err(|e| TestnetError::Data {
        path: dir.clone(),
        reason: format!("the cached base does not load ({e}); delete the folder to pretrain it again"),
    })?;
    tracing::info!(dir = %dir.display(), %sha256, reused, "the language-model base");
    Ok(CachedBase { weights, dir, sha256, reused })
}

/// Pretrains the base into `dir`, with its `recipe.json`.
fn pretrain_into(
    recipe: &BaseRecipe,
    corpus: &TextCorpus,
    corpus_sha256: &str,
    backend: &Backend,
    dir: &Path,
) -> Result<(), TestnetError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(TestnetError::io(format!("clearing {}", dir.display())))?;
    }
    let spec = GptSpec::parse(&recipe.architecture)?;
    let engine = Engine::new(backend)?;
    tracing::info!(architecture = %spec, steps = recipe.steps, device = %engine.adapter(), "pretraining the base");
    let weights = engine.pretrain_lm(&spec, &corpus.windows(spec.ctx)?, &recipe.train_config(), &mut |_| {})?;
    weights.save(dir)?;
    let about = serde_json::json!({
        "recipe_version": RECIPE_VERSION,
        "recipe": recipe,
        "corpus_sha256": corpus_sha256,
        "train_config": format!("{:?}", recipe.train_config()),
        "device": engine.adapter(),
    });
    let path = dir.join("recipe.json");
    std::fs::write(&path, serde_json::to_string_pretty(&about).expect("serializes"))
        .map_err(TestnetError::io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_changes_with_anything_that_changes_the_weights() {
        let demo = BaseRecipe::demo();
        let key = demo.key("aa");
        assert_eq!(key, BaseRecipe::demo().key("aa"), "deterministic");
        assert_ne!(key, demo.key("ab"), "the corpus");
        for other in [
            BaseRecipe { steps: 301, ..BaseRecipe::demo() },
            BaseRecipe { batch: 16, ..BaseRecipe::demo() },
            BaseRecipe { learning_rate: 1e-3, ..BaseRecipe::demo() },
            BaseRecipe { seed: 2, ..BaseRecipe::demo() },
            BaseRecipe { architecture: "gpt:layers=1,d=32,heads=2,ctx=64".into(), ..BaseRecipe::demo() },
        ] {
            assert_ne!(other.key("aa"), key, "{other:?}");
        }
    }

    #[test]
    fn a_cached_base_is_read_back_not_pretrained_again() {
        let root = tempfile::tempdir().unwrap();
        let recipe = BaseRecipe {
            architecture: "gpt:layers=1,d=8,heads=2,ctx=16".into(),
            steps: 2,
            batch: 2,
            ..BaseRecipe::demo()
        };
        let first = cached_base(&recipe, root.path(), &Backend::CpuReference).unwrap();
        assert!(!first.reused && first.weights_file().is_file() && first.dir.join("recipe.json").is_file());
        let second = cached_base(&recipe, root.path(), &Backend::CpuReference).unwrap();
        assert!(second.reused);
        assert_eq!((second.dir, second.sha256), (first.dir, first.sha256));
        // Nothing but the finished base is left in the cache.
        let entries: Vec<_> = std::fs::read_dir(root.path().join("demo-base")).unwrap().collect();
        assert_eq!(entries.len(), 1);
    }
}
