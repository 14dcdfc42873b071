//! The library's front door: an [`Engine`] on a GPU adapter or on the CPU reference, with
//! `train`, `evaluate` and `evaluate_file`.

use std::path::Path;

use serde_json::json;

use crate::data::{DataFile, Dataset};
use crate::device::{Gpu, GpuOptions};
use crate::model::{Model, ModelSpec};
use crate::train::{EpochReport, TrainConfig};
use crate::{cpu, network, reference, train, Error, Result};

/// Where the math runs.
#[derive(Clone, Debug)]
pub enum Backend {
    /// WGSL compute shaders through wgpu.
    Gpu(GpuOptions),
    /// The plain-Rust reference implementation.
    CpuReference,
}

/// An opened backend.
pub struct Engine {
    gpu: Option<Gpu>,
}

/// The result of evaluating a model on a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub rows: usize,
    pub correct: u64,
    /// correct / rows.
    pub accuracy: f64,
    /// Mean softmax cross-entropy (natural log) over the rows.
    pub mean_loss: f64,
    /// Accuracy in parts per million, rounded down: what a validator reveals on chain.
    pub score_ppm: u32,
    /// sha256 of the model file (or of its canonical bytes for a model in memory).
    pub model_sha256: String,
    pub data_sha256: String,
    pub data_files: Vec<DataFile>,
    pub adapter: String,
    pub backend: String,
    /// Why the model scored 0 without being run (bad file, values or shapes).
    pub rejected: Option<String>,
}

impl Evaluation {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "score_ppm": self.score_ppm,
            "accuracy": self.accuracy,
            "mean_loss": if self.mean_loss.is_finite() { json!(self.mean_loss) } else { json!(null) },
            "rows": self.rows,
            "correct": self.correct,
            "model_sha256": self.model_sha256,
            "data_sha256": self.data_sha256,
            "data_files": self.data_files.iter().map(|f| json!({"path": f.path.display().to_string(), "sha256": f.sha256})).collect::<Vec<_>>(),
            "adapter": self.adapter,
            "backend": self.backend,
            "rejected": self.rejected,
        })
    }
}

/// score_ppm = floor(correct * 1,000,000 / rows), in [0, 1,000,000].
pub fn score_ppm(correct: u64, rows: usize) -> u32 {
    if rows == 0 {
        return 0;
    }
    (correct.min(rows as u64) as u128 * 1_000_000 / rows as u128) as u32
}

impl Engine {
    /// Opens the backend; a GPU backend with no adapter fails with [`Error::NoAdapter`].
    pub fn new(backend: &Backend) -> Result<Engine> {
        Ok(Engine {
            gpu: match backend {
                Backend::Gpu(options) => Some(Gpu::new(options)?),
                Backend::CpuReference => None,
            },
        })
    }

    /// The device, when the engine runs on one.
    pub fn gpu(&self) -> Option<&Gpu> {
        self.gpu.as_ref()
    }

    /// The adapter's name, or "cpu-reference".
    pub fn adapter(&self) -> String {
        self.gpu.as_ref().map_or_else(|| "cpu-reference".to_string(), |g| g.adapter().name.clone())
    }

    /// "vulkan", "gl", or "cpu-reference".
    pub fn backend(&self) -> String {
        self.gpu.as_ref().map_or_else(|| "cpu-reference".to_string(), |g| g.adapter().backend.clone())
    }

    /// Trains a model on `data`.
    pub fn train(&self, data: &Dataset, spec: &ModelSpec, cfg: &TrainConfig) -> Result<Model> {
        self.train_with_progress(data, spec, cfg, &mut |_| {})
    }

    /// Trains, calling `progress` after every epoch.
    pub fn train_with_progress(
        &self,
        data: &Dataset,
        spec: &ModelSpec,
        cfg: &TrainConfig,
        progress: &mut dyn FnMut(&EpochReport),
    ) -> Result<Model> {
        match &self.gpu {
            Some(gpu) => {
                let model = train::initial_model(data, spec, cfg)?;
                let mut run = network::Run::new(gpu, model, data, cfg.batch_size, Some(cfg))?;
                train::drive(&mut run, data, cfg, progress)
            }
            None => cpu::train(data, spec, cfg, reference::matmul, progress),
        }
    }

    /// Evaluates `model` on `data`. Fails if the model does not fit the data (input size, or a
    /// label the model has no class for).
    pub fn evaluate(&self, model: &Model, data: &Dataset) -> Result<Evaluation> {
        self.evaluate_with_sha(model, model.sha256(), data)
    }

    fn evaluate_with_sha(&self, model: &Model, model_sha256: String, data: &Dataset) -> Result<Evaluation> {
        if model.input_size != data.cols {
            return Err(Error::InputSizeMismatch {
                model: model_sha256,
                expected: model.input_size,
                data: data.name.clone(),
                found: data.cols,
            });
        }
        data.check_labels(model.classes)?;
        let (loss, correct) = match &self.gpu {
            Some(gpu) => network::evaluate(gpu, model, data)?,
            None => cpu::evaluate(model, data, reference::matmul),
        };
        Ok(Evaluation {
            rows: data.rows,
            correct,
            accuracy: correct as f64 / data.rows as f64,
            mean_loss: loss as f64 / data.rows as f64,
            score_ppm: score_ppm(correct, data.rows),
            model_sha256,
            data_sha256: data.sha256(),
            data_files: data.files.clone(),
            adapter: self.adapter(),
            backend: self.backend(),
            rejected: None,
        })
    }

    /// What a validator runs: loads the model file and evaluates it. A model that is the
    /// submitter's fault (unreadable as safetensors, bad metadata, wrong shapes, NaN or Inf
    /// weights, input size or classes that do not fit the data) scores 0 with the reason in
    /// `rejected`; only problems on the validator's side (I/O, the device) are errors.
    pub fn evaluate_file(&self, model_path: &Path, data: &Dataset) -> Result<Evaluation> {
        let bytes = std::fs::read(model_path).map_err(|e| Error::io(model_path, &e))?;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        let result = Model::from_safetensors(&bytes, model_path)
            .and_then(|model| self.evaluate_with_sha(&model, sha.clone(), data));
        match result {
            Err(e) if e.is_model_fault() => Ok(Evaluation {
                rows: data.rows,
                correct: 0,
                accuracy: 0.0,
                mean_loss: f64::NAN,
                score_ppm: 0,
                model_sha256: sha,
                data_sha256: data.sha256(),
                data_files: data.files.clone(),
                adapter: self.adapter(),
                backend: self.backend(),
                rejected: Some(e.to_string()),
            }),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::score_ppm;

    #[test]
    fn score_ppm_rounds_down_and_stays_in_range() {
        assert_eq!(score_ppm(1, 3), 333_333);
        assert_eq!(score_ppm(2, 3), 666_666);
        assert_eq!(score_ppm(359, 359), 1_000_000);
        assert_eq!(score_ppm(0, 359), 0);
        assert_eq!(score_ppm(5, 0), 0);
    }
}
