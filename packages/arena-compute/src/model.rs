//! Model architectures, weights, seeded initialization, and the safetensors file format.
//!
//! A model file is self-describing: its `__metadata__` names the architecture (`mlp:128,64:relu`),
//! input size, class count and feature scaling, and its tensors are the scaling vectors and each
//! layer's weight (`[inputs, outputs]`, y = x W + b) and bias. The file's sha256 is the model's
//! identity on chain. The writer is ours (not the safetensors crate's, whose metadata map is a
//! HashMap serialized in random order): the same weights always give the same bytes.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::data::{Scaling, ScalingKind};
use crate::rng::SplitMix64;
use crate::{Error, Result};

/// A hidden layer's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Tanh,
    /// GELU, tanh approximation.
    Gelu,
}

impl Activation {
    /// The code the kernels switch on (activation.wgsl); 0 is the identity.
    pub(crate) fn code(self) -> u32 {
        match self {
            Activation::Relu => 1,
            Activation::Tanh => 2,
            Activation::Gelu => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "relu" => Some(Activation::Relu),
            "tanh" => Some(Activation::Tanh),
            "gelu" => Some(Activation::Gelu),
            _ => None,
        }
    }
}

/// An architecture. An enum so that a small CNN can join later with its own spec string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSpec {
    /// Fully connected layers: input -> hidden... -> classes, softmax cross-entropy on top.
    Mlp { hidden: Vec<usize>, activation: Activation },
}

impl ModelSpec {
    /// Parses `mlp:128,64` (ReLU), `mlp:128,64:tanh`, `mlp:256:gelu`, or `mlp` (no hidden layer:
    /// multinomial logistic regression).
    pub fn parse(spec: &str) -> Result<Self> {
        let err = |reason: &str| Error::ModelSpec { spec: spec.to_string(), reason: reason.to_string() };
        let mut parts = spec.trim().split(':');
        match parts.next() {
            Some("mlp") => {}
            _ => return Err(err("expected `mlp:<hidden sizes>[:relu|tanh|gelu]`, e.g. mlp:128,64")),
        }
        let hidden = match parts.next() {
            None | Some("") => Vec::new(),
            Some(sizes) => sizes
                .split(',')
                .map(|s| match s.trim().parse::<usize>() {
                    Ok(n) if (1..=65_536).contains(&n) => Ok(n),
                    _ => Err(err(&format!("hidden size {s:?} is not an integer in 1..=65536"))),
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let activation = match parts.next() {
            None => Activation::Relu,
            Some(a) => {
                Activation::parse(a).ok_or_else(|| err(&format!("unknown activation {a:?} (relu, tanh, gelu)")))?
            }
        };
        if parts.next().is_some() {
            return Err(err("too many `:` parts"));
        }
        Ok(ModelSpec::Mlp { hidden, activation })
    }

    /// The (inputs, outputs) of each dense layer.
    pub fn layer_dims(&self, input_size: usize, classes: usize) -> Vec<(usize, usize)> {
        let ModelSpec::Mlp { hidden, .. } = self;
        let mut sizes = vec![input_size];
        sizes.extend(hidden);
        sizes.push(classes);
        sizes.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// The family a task's `ModelConstraints` and a submission's metadata name: `mlp`.
    pub fn family(&self) -> &'static str {
        match self {
            ModelSpec::Mlp { .. } => "mlp",
        }
    }

    pub fn activation(&self) -> Activation {
        let ModelSpec::Mlp { activation, .. } = self;
        *activation
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ModelSpec::Mlp { hidden, activation } = self;
        let sizes: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
        write!(f, "mlp:{}:{}", sizes.join(","), activation.name())
    }
}

/// One fully connected layer: y = x W + b with W stored `[inputs, outputs]` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A trained (or initialized) model: architecture, feature scaling and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub spec: ModelSpec,
    pub input_size: usize,
    pub classes: usize,
    /// Applied to raw features before the first layer: x' = (x - offset) * scale.
    pub scaling: Scaling,
    pub layers: Vec<Dense>,
}

const FORMAT: &str = "arena-gpu-worker/classifier";
const FORMAT_VERSION: &str = "1";

impl Model {
    /// Seeded initialization: He-uniform (bound sqrt(6 / inputs)) for ReLU and GELU layers,
    /// Glorot-uniform (sqrt(6 / (inputs + outputs))) for tanh layers and the output layer; zero
    /// biases.
    pub fn init(spec: &ModelSpec, input_size: usize, classes: usize, scaling: Scaling, seed: u64) -> Result<Model> {
        if input_size == 0 || classes < 2 {
            return Err(Error::Config(format!(
                "a classifier needs inputs and at least 2 classes, got {input_size} inputs, {classes} classes"
            )));
        }
        let mut rng = SplitMix64::new(seed);
        let dims = spec.layer_dims(input_size, classes);
        let last = dims.len() - 1;
        let layers = dims
            .iter()
            .enumerate()
            .map(|(i, &(inputs, outputs))| {
                let he = i < last && spec.activation() != Activation::Tanh;
                let bound =
                    if he { (6.0 / inputs as f64).sqrt() } else { (6.0 / (inputs + outputs) as f64).sqrt() } as f32;
                let weight = (0..inputs * outputs).map(|_| (2.0 * rng.unit_f32() - 1.0) * bound).collect();
                Dense { inputs, outputs, weight, bias: vec![0.0; outputs] }
            })
            .collect();
        Ok(Model { spec: spec.clone(), input_size, classes, scaling, layers })
    }

    /// Number of trainable parameters.
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    /// The safetensors bytes of this model (deterministic: same model, same bytes).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let mut tensors: Vec<(String, Vec<usize>, &[f32])> = vec![
            ("input.offset".into(), vec![self.input_size], &self.scaling.offset),
            ("input.scale".into(), vec![self.input_size], &self.scaling.scale),
        ];
        for (i, l) in self.layers.iter().enumerate() {
            tensors.push((format!("layers.{i}.weight"), vec![l.inputs, l.outputs], &l.weight));
            tensors.push((format!("layers.{i}.bias"), vec![l.outputs], &l.bias));
        }
        let meta = [
            ("architecture", self.spec.to_string()),
            ("classes", self.classes.to_string()),
            ("format", FORMAT.to_string()),
            ("format_version", FORMAT_VERSION.to_string()),
            ("input_size", self.input_size.to_string()),
            ("scaling", self.scaling.kind.name().to_string()),
            ("weight_layout", "[inputs, outputs] row-major, y = x W + b".to_string()),
        ];
        let meta: serde_json::Map<String, serde_json::Value> =
            meta.into_iter().map(|(k, v)| (k.to_string(), v.into())).collect();
        crate::tensor_file::f32_safetensors(meta.into(), &tensors)
    }

    /// The model's identity: sha256 (hex) of its safetensors bytes.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.to_safetensors()))
    }

    /// Writes the model and returns its sha256.
    pub fn save(&self, path: &Path) -> Result<String> {
        let bytes = self.to_safetensors();
        std::fs::write(path, &bytes).map_err(|e| Error::io(path, &e))?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// Reads and fully checks a model file; returns the model and the file's sha256.
    pub fn load(path: &Path) -> Result<(Model, String)> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        let model = Model::from_safetensors(&bytes, path)?;
        Ok((model, hex::encode(Sha256::digest(&bytes))))
    }

    /// Parses safetensors bytes; `path` only names the source in errors.
    pub fn from_safetensors(bytes: &[u8], path: &Path) -> Result<Model> {
        let bad = |reason: String| Error::NotSafetensors { path: path.into(), reason };
        let meta_err = |reason: String| Error::ModelMetadata { path: path.into(), reason };
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get =
            |key: &str| meta.get(key).ok_or_else(|| meta_err(format!("missing key {key:?} (not a gpu-worker model?)")));
        if get("format")? != FORMAT {
            return Err(meta_err(format!("format is {:?}, expected {FORMAT:?}", meta["format"])));
        }
        if get("format_version")? != FORMAT_VERSION {
            return Err(meta_err(format!(
                "format_version {:?} is not supported (expected {FORMAT_VERSION})",
                meta["format_version"]
            )));
        }
        let count = |key: &str| -> Result<usize> {
            let v = get(key)?;
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| meta_err(format!("{key} is {v:?}, not a positive integer")))
        };
        let input_size = count("input_size")?;
        let classes = count("classes")?;
        if classes < 2 {
            return Err(meta_err(format!("classes is {classes}; a classifier needs at least 2")));
        }
        let spec = ModelSpec::parse(get("architecture")?).map_err(|e| meta_err(e.to_string()))?;
        let kind = ScalingKind::parse(get("scaling")?)
            .ok_or_else(|| meta_err(format!("unknown scaling {:?}", meta["scaling"])))?;

        let dims = spec.layer_dims(input_size, classes);
        let mut expected: Vec<(String, Vec<usize>)> =
            vec![("input.offset".into(), vec![input_size]), ("input.scale".into(), vec![input_size])];
        for (i, &(inputs, outputs)) in dims.iter().enumerate() {
            expected.push((format!("layers.{i}.weight"), vec![inputs, outputs]));
            expected.push((format!("layers.{i}.bias"), vec![outputs]));
        }
        if let Some(extra) = st.names().into_iter().find(|n| !expected.iter().any(|(e, _)| e == *n)) {
            return Err(meta_err(format!("unexpected tensor {extra:?} for architecture {spec}")));
        }
        let mut values = Vec::with_capacity(expected.len());
        for (name, shape) in &expected {
            let view = st.tensor(name).map_err(|_| Error::MissingTensor { path: path.into(), tensor: name.clone() })?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(bad(format!("tensor {name:?} has dtype {:?}, expected F32", view.dtype())));
            }
            if view.shape() != shape.as_slice() {
                return Err(Error::TensorShape {
                    path: path.into(),
                    tensor: name.clone(),
                    expected: shape.clone(),
                    found: view.shape().to_vec(),
                });
            }
            let data: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFinite { path: path.into(), tensor: name.clone(), index, value });
            }
            values.push(data);
        }
        let mut values = values.into_iter();
        let scaling =
            Scaling { kind, offset: values.next().unwrap_or_default(), scale: values.next().unwrap_or_default() };
        let layers = dims
            .iter()
            .map(|&(inputs, outputs)| Dense {
                inputs,
                outputs,
                weight: values.next().unwrap_or_default(),
                bias: values.next().unwrap_or_default(),
            })
            .collect();
        Ok(Model { spec, input_size, classes, scaling, layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Model {
        let spec = ModelSpec::parse("mlp:5,4:tanh").unwrap();
        Model::init(&spec, 3, 2, Scaling::identity(3), 9).unwrap()
    }

    #[test]
    fn spec_strings_parse_and_print_canonically() {
        assert_eq!(ModelSpec::parse("mlp:128,64").unwrap().to_string(), "mlp:128,64:relu");
        assert_eq!(ModelSpec::parse("mlp:256:gelu").unwrap().to_string(), "mlp:256:gelu");
        assert_eq!(ModelSpec::parse("mlp").unwrap().layer_dims(64, 10), vec![(64, 10)]);
        assert_eq!(ModelSpec::parse("mlp:8,4").unwrap().layer_dims(3, 2), vec![(3, 8), (8, 4), (4, 2)]);
        for bad in ["cnn:3", "mlp:0", "mlp:12,x", "mlp:4:sigmoid", "mlp:4:relu:x"] {
            assert!(matches!(ModelSpec::parse(bad), Err(Error::ModelSpec { .. })), "{bad}");
        }
    }

    #[test]
    fn safetensors_round_trip_is_exact_and_the_crate_reads_our_files() {
        let m = small();
        let bytes = m.to_safetensors();
        assert_eq!(bytes, small().to_safetensors(), "same model, same bytes");
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.tensor("layers.0.weight").unwrap().shape(), &[3, 5]);
        assert_eq!(Model::from_safetensors(&bytes, Path::new("m")).unwrap(), m);
    }

    #[test]
    fn init_depends_on_the_seed_only() {
        let spec = ModelSpec::parse("mlp:5").unwrap();
        let a = Model::init(&spec, 3, 2, Scaling::identity(3), 1).unwrap();
        let b = Model::init(&spec, 3, 2, Scaling::identity(3), 1).unwrap();
        let c = Model::init(&spec, 3, 2, Scaling::identity(3), 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.layers[0].weight, c.layers[0].weight);
        let bound = (6.0f32 / 3.0).sqrt();
        assert!(a.layers[0].weight.iter().all(|w| w.abs() <= bound));
    }
}
