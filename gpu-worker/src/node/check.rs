//! What a validator checks before it scores a model: that the file is what its trainer revealed
//! (family, parameter count, byte size as in the submission's metadata) and within the task's
//! `ModelConstraints`. The market checks the metadata against the constraints when the model is
//! revealed, but only the file itself can say whether the metadata is true; a model that lies
//! about itself scores 0, whatever its accuracy.

use arena_types::market::msg::{ModelConstraints, ModelMetadata};
use arena_types::market::params::{validate_metadata, ParamError};
use thiserror::Error;

use crate::Model;

/// How a model file failed its checks.
#[derive(Debug, Error, PartialEq)]
pub enum ModelCheckError {
    #[error("the file is an {found:?} model but its metadata says {claimed:?}")]
    Family { claimed: String, found: String },
    #[error("the file has {found} parameters but its metadata says {claimed}")]
    Parameters { claimed: u64, found: u64 },
    #[error("the file is {found} bytes but its metadata says {claimed}")]
    FileBytes { claimed: u64, found: u64 },
    #[error("the file breaks the task's model constraints: {0}")]
    Constraints(ParamError),
}

/// Checks a parsed model file of `file_bytes` bytes against the metadata its trainer revealed and
/// the task's constraints (with the market's own rule, [`validate_metadata`], applied to what the
/// file really is).
pub fn check_model(
    model: &Model,
    file_bytes: u64,
    claimed: &ModelMetadata,
    constraints: &ModelConstraints,
) -> Result<(), ModelCheckError> {
    let found = ModelMetadata {
        family: model.spec.family().to_string(),
        parameters: model.parameters() as u64,
        file_bytes,
        notes: None,
    };
    if found.family != claimed.family {
        return Err(ModelCheckError::Family { claimed: claimed.family.clone(), found: found.family });
    }
    if found.parameters != claimed.parameters {
        return Err(ModelCheckError::Parameters { claimed: claimed.parameters, found: found.parameters });
    }
    if found.file_bytes != claimed.file_bytes {
        return Err(ModelCheckError::FileBytes { claimed: claimed.file_bytes, found: found.file_bytes });
    }
    validate_metadata(constraints, &found).map_err(ModelCheckError::Constraints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModelSpec, Scaling};

    /// A logistic regression on 64 inputs and 10 classes: 650 parameters.
    fn model() -> Model {
        Model::init(&ModelSpec::parse("mlp").unwrap(), 64, 10, Scaling::identity(64), 1).unwrap()
    }

    fn truthful(m: &Model) -> ModelMetadata {
        ModelMetadata {
            family: "mlp".into(),
            parameters: m.parameters() as u64,
            file_bytes: m.to_safetensors().len() as u64,
            notes: None,
        }
    }

    fn constraints() -> ModelConstraints {
        ModelConstraints { family: "mlp".into(), max_parameters: 10_000, max_file_bytes: 100_000 }
    }

    #[test]
    fn a_model_that_is_what_it_says_passes() {
        let m = model();
        let bytes = m.to_safetensors().len() as u64;
        assert_eq!(m.parameters(), 650);
        assert_eq!(check_model(&m, bytes, &truthful(&m), &constraints()), Ok(()));
    }

    #[test]
    fn a_model_that_lies_about_itself_is_caught() {
        let m = model();
        let bytes = m.to_safetensors().len() as u64;
        let lie = ModelMetadata { parameters: 100, ..truthful(&m) };
        assert_eq!(
            check_model(&m, bytes, &lie, &constraints()),
            Err(ModelCheckError::Parameters { claimed: 100, found: 650 })
        );
        let lie = ModelMetadata { file_bytes: bytes - 1, ..truthful(&m) };
        assert_eq!(
            check_model(&m, bytes, &lie, &constraints()),
            Err(ModelCheckError::FileBytes { claimed: bytes - 1, found: bytes })
        );
        let lie = ModelMetadata { family: "cnn".into(), ..truthful(&m) };
        assert_eq!(
            check_model(&m, bytes, &lie, &constraints()),
            Err(ModelCheckError::Family { claimed: "cnn".into(), found: "mlp".into() })
        );
    }

    #[test]
    fn a_truthful_model_over_the_tasks_limits_is_refused() {
        let m = model();
        let bytes = m.to_safetensors().len() as u64;
        let small = ModelConstraints { max_parameters: 649, ..constraints() };
        assert_eq!(
            check_model(&m, bytes, &truthful(&m), &small),
            Err(ModelCheckError::Constraints(ParamError::ModelTooLarge { field: "parameters", max: 649, got: 650 }))
        );
        let small = ModelConstraints { max_file_bytes: bytes - 1, ..constraints() };
        assert!(matches!(
            check_model(&m, bytes, &truthful(&m), &small),
            Err(ModelCheckError::Constraints(ParamError::ModelTooLarge { field: "file_bytes", .. }))
        ));
        let other = ModelConstraints { family: "cnn".into(), ..constraints() };
        assert!(matches!(
            check_model(&m, bytes, &truthful(&m), &other),
            Err(ModelCheckError::Constraints(ParamError::WrongModelFamily { .. }))
        ));
    }
}
