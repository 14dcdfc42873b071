//! The library's one error type. Every message names the file (or model) and the problem, with the
//! values that were wrong, so a user can fix the input without reading code.

use std::path::PathBuf;

/// Everything that can go wrong in the compute core.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },

    /// A CSV field is empty.
    #[error("{path}: line {line}, column {column}: missing value")]
    MissingValue { path: PathBuf, line: usize, column: usize },

    /// A CSV field is not a finite number.
    #[error("{path}: line {line}, column {column}: {value:?} is not a finite number")]
    NotANumber { path: PathBuf, line: usize, column: usize, value: String },

    /// A CSV row has a different number of fields than the first row.
    #[error("{path}: line {line}: expected {expected} columns (as in the first row), found {found}")]
    RaggedRow { path: PathBuf, line: usize, expected: usize, found: usize },

    /// A label is not a non-negative integer.
    #[error("{path}: line {line}: label {value:?} is not a non-negative integer")]
    BadLabel { path: PathBuf, line: usize, value: String },

    /// A label is not below the number of classes. `line` is the CSV line, or the IDX record (from 1).
    #[error("{path}: line {line}: label {label} is out of range: there are {classes} classes (0..={max})", max = .classes.saturating_sub(1))]
    LabelOutOfRange { path: PathBuf, line: usize, label: u64, classes: usize },

    /// A data file holds no rows, or rows without features.
    #[error("{path}: {reason}")]
    EmptyDataset { path: PathBuf, reason: String },

    /// An IDX (MNIST) file is malformed.
    #[error("{path}: not a valid IDX file: {reason}")]
    Idx { path: PathBuf, reason: String },

    /// A model file is not a safetensors file (truncated, bad header, wrong dtype).
    #[error("{path}: not a valid safetensors model: {reason}")]
    NotSafetensors { path: PathBuf, reason: String },

    /// A safetensors file lacks the metadata that describes the model, or the metadata is invalid.
    #[error("{path}: model metadata: {reason}")]
    ModelMetadata { path: PathBuf, reason: String },

    /// A tensor is missing or its shape is not what the architecture needs.
    #[error("{path}: tensor {tensor:?}: expected shape {expected:?}, found {found:?}")]
    TensorShape { path: PathBuf, tensor: String, expected: Vec<usize>, found: Vec<usize> },

    /// A tensor the architecture needs is not in the file.
    #[error("{path}: tensor {tensor:?} is missing")]
    MissingTensor { path: PathBuf, tensor: String },

    /// A weight is NaN or infinite.
    #[error("{path}: tensor {tensor:?}: element {index} is {value}, not a finite number")]
    NonFinite { path: PathBuf, tensor: String, index: usize, value: f32 },

    /// The model's input size differs from the data's feature count.
    #[error("model {model} expects {expected} input features but {data} has {found}")]
    InputSizeMismatch { model: String, expected: usize, data: String, found: usize },

    /// A language model's `config.json` is missing, malformed, or disagrees with its tensors.
    #[error("{path}: {reason}")]
    ModelConfig { path: PathBuf, reason: String },

    /// A token id is not below the model's vocabulary size.
    #[error("{what}: token {token} at position {position} is out of range for a vocabulary of {vocab}")]
    TokenOutOfRange { what: String, position: usize, token: u32, vocab: usize },

    /// A language model's `tokenizer.json` does not load, or does not fit the model's vocabulary.
    #[error("{path}: {reason}")]
    Tokenizer { path: PathBuf, reason: String },

    /// Text the tokenizer cannot encode (a Hugging Face tokenizer reads UTF-8 only).
    #[error("{what}: cannot tokenize: {reason}")]
    Tokenize { what: String, reason: String },

    /// A model spec string such as `mlp:128,64` could not be parsed.
    #[error("invalid model spec {spec:?}: {reason}")]
    ModelSpec { spec: String, reason: String },

    /// A training setting is out of range.
    #[error("invalid training configuration: {0}")]
    Config(String),

    /// Training produced a non-finite loss.
    #[error("training diverged: epoch {epoch} has mean loss {loss}; lower the learning rate")]
    Diverged { epoch: usize, loss: f64 },

    /// No adapter exists for the requested backends.
    #[error("no GPU adapter found for backend {backend} ({hint})")]
    NoAdapter { backend: String, hint: String },

    /// The adapter selector matched none of the adapters present.
    #[error("no adapter matches {selector:?}; available: {available:?}")]
    AdapterNotFound { selector: String, available: Vec<String> },

    /// The device could not be created, or a GPU operation failed.
    #[error("GPU error: {0}")]
    Gpu(String),
}

impl Error {
    /// An [`Error::Io`] naming `path`.
    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        Error::Io { path: path.into(), reason: err.to_string() }
    }

    /// True when the error is the model's fault (its file, values or shapes), as opposed to the
    /// data's or the machine's: a validator scores such a model 0 instead of failing.
    pub fn is_model_fault(&self) -> bool {
        matches!(
            self,
            Error::NotSafetensors { .. }
                | Error::ModelMetadata { .. }
                | Error::TensorShape { .. }
                | Error::MissingTensor { .. }
                | Error::NonFinite { .. }
                | Error::InputSizeMismatch { .. }
                | Error::LabelOutOfRange { .. }
                | Error::ModelSpec { .. }
                | Error::ModelConfig { .. }
                | Error::Tokenizer { .. }
        )
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
