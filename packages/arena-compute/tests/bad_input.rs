//! Each kind of bad input gets a clear, typed error naming the file and the problem; a validator's
//! evaluation of a broken model scores 0 with the reason instead of failing.

mod common;

use std::path::{Path, PathBuf};

use arena_compute::{Backend, CsvOptions, Dataset, Engine, Error, LabelColumn, Model, ModelSpec, Scaling};
use common::{data_dir, digits_eval};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A valid (untrained) model for the digits' 64 features and 10 classes.
fn digits_model() -> Model {
    Model::init(&ModelSpec::parse("mlp:8").unwrap(), 64, 10, Scaling::identity(64), 1).unwrap()
}

fn csv(dir: &Path, text: &str) -> (PathBuf, Result<Dataset, Error>) {
    let path = write(dir, "data.csv", text.as_bytes());
    let result = Dataset::from_csv(&path, &CsvOptions::default());
    (path, result)
}

#[test]
fn a_truncated_model_file_is_not_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = digits_model().to_safetensors();
    let path = write(dir.path(), "cut.safetensors", &bytes[..bytes.len() - 10]);
    let err = Model::load(&path).unwrap_err();
    assert!(matches!(&err, Error::NotSafetensors { path: p, .. } if p == &path), "{err}");
    assert!(err.to_string().contains("cut.safetensors"), "{err}");
}

#[test]
fn a_file_of_another_kind_is_not_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "model.safetensors", b"PK\x03\x04 this is a zip file, not a model");
    assert!(matches!(Model::load(&path).unwrap_err(), Error::NotSafetensors { .. }));
    let empty = write(dir.path(), "empty.safetensors", b"");
    assert!(matches!(Model::load(&empty).unwrap_err(), Error::NotSafetensors { .. }));
}

#[test]
fn a_safetensors_file_without_our_metadata_is_rejected() {
    // A valid safetensors file (one tensor, no metadata), as another tool would write it.
    let header = br#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&1.0f32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "foreign.safetensors", &bytes);
    let err = Model::load(&path).unwrap_err();
    assert!(matches!(&err, Error::ModelMetadata { reason, .. } if reason.contains("format")), "{err}");
}

/// Rewrites one tensor of a valid model file in place (same length).
fn patch_tensor(bytes: &mut [u8], name: &str, index: usize, value: f32) {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let start = header[name]["data_offsets"][0].as_u64().unwrap() as usize;
    let at = 8 + header_len + start + 4 * index;
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn nan_and_infinite_weights_are_rejected_with_the_tensor_and_index() {
    let dir = tempfile::tempdir().unwrap();
    for (value, name) in [(f32::NAN, "nan"), (f32::INFINITY, "inf"), (f32::NEG_INFINITY, "-inf")] {
        let mut bytes = digits_model().to_safetensors();
        patch_tensor(&mut bytes, "layers.1.weight", 5, value);
        let path = write(dir.path(), &format!("{name}.safetensors"), &bytes);
        match Model::load(&path).unwrap_err() {
            Error::NonFinite { tensor, index, .. } => assert_eq!((tensor.as_str(), index), ("layers.1.weight", 5)),
            other => panic!("{name}: {other}"),
        }
    }
}

#[test]
fn a_tensor_whose_shape_contradicts_the_architecture_is_rejected() {
    let mut model = digits_model();
    let wrong = Model::init(&ModelSpec::parse("mlp:9").unwrap(), 64, 10, Scaling::identity(64), 1).unwrap();
    // Claim 8 hidden units but carry the 9-unit tensors.
    model.layers = wrong.layers;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "shape.safetensors", &model.to_safetensors());
    match Model::load(&path).unwrap_err() {
        Error::TensorShape { tensor, expected, found, .. } => {
            assert_eq!(tensor, "layers.0.weight");
            assert_eq!((expected, found), (vec![64, 8], vec![64, 9]));
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_model_whose_input_size_does_not_match_the_data_is_refused() {
    let model = Model::init(&ModelSpec::parse("mlp:8").unwrap(), 63, 10, Scaling::identity(63), 1).unwrap();
    let engine = Engine::new(&Backend::CpuReference).unwrap();
    match engine.evaluate(&model, &digits_eval()).unwrap_err() {
        Error::InputSizeMismatch { expected, found, data, .. } => {
            assert_eq!((expected, found), (63, 64));
            assert!(data.ends_with("digits-eval.csv"));
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_label_beyond_the_models_classes_is_out_of_range() {
    // A 9-class model cannot be scored on data holding the label 9.
    let model = Model::init(&ModelSpec::parse("mlp:8").unwrap(), 64, 9, Scaling::identity(64), 1).unwrap();
    let engine = Engine::new(&Backend::CpuReference).unwrap();
    let data = digits_eval();
    let first_nine = data.labels.iter().position(|&l| l == 9).unwrap();
    assert_eq!(
        engine.evaluate(&model, &data).unwrap_err(),
        Error::LabelOutOfRange { path: data_dir().join("digits-eval.csv"), line: first_nine + 1, label: 9, classes: 9 }
    );
}

#[test]
fn a_label_out_of_the_declared_classes_fails_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.csv", b"1,2,0\n3,4,1\n5,6,7\n");
    let err = Dataset::from_csv(&path, &CsvOptions { classes: Some(3), ..Default::default() }).unwrap_err();
    assert_eq!(err, Error::LabelOutOfRange { path, line: 3, label: 7, classes: 3 });
}

#[test]
fn a_missing_csv_value_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let (path, r) = csv(dir.path(), "1,2,0\n3,,1\n");
    assert_eq!(r.unwrap_err(), Error::MissingValue { path, line: 2, column: 1 });
}

#[test]
fn a_short_csv_row_is_ragged() {
    let dir = tempfile::tempdir().unwrap();
    let (path, r) = csv(dir.path(), "1,2,0\n3,1\n");
    assert_eq!(r.unwrap_err(), Error::RaggedRow { path, line: 2, expected: 3, found: 2 });
}

#[test]
fn a_non_numeric_csv_value_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["abc", "nan", "inf", "1.2.3"] {
        let (path, r) = csv(dir.path(), &format!("1,2,0\n3,{bad},1\n"));
        assert_eq!(r.unwrap_err(), Error::NotANumber { path, line: 2, column: 1, value: bad.to_string() });
    }
}

#[test]
fn a_fractional_or_negative_label_is_a_bad_label() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["1.5", "-1", "x"] {
        let (path, r) = csv(dir.path(), &format!("1,2,0\n3,4,{bad}\n"));
        assert_eq!(r.unwrap_err(), Error::BadLabel { path, line: 2, value: bad.to_string() });
    }
}

#[test]
fn a_header_is_only_skipped_when_declared() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "h.csv", b"label,a,b\n1,0.5,2\n0,1.5,3\n");
    let opts = CsvOptions { header: true, label_column: LabelColumn::First, classes: None };
    let ds = Dataset::from_csv(&path, &opts).unwrap();
    assert_eq!((ds.rows, ds.cols, ds.labels.clone()), (2, 2, vec![1, 0]));
    let err =
        Dataset::from_csv(&path, &CsvOptions { label_column: LabelColumn::First, ..Default::default() }).unwrap_err();
    assert_eq!(err, Error::BadLabel { path, line: 1, value: "label".into() });
}

#[test]
fn a_missing_data_file_is_an_io_error_naming_it() {
    let path = PathBuf::from("/nonexistent/data.csv");
    let err = Dataset::from_csv(&path, &CsvOptions::default()).unwrap_err();
    assert!(matches!(&err, Error::Io { path: p, .. } if p == &path));
}

#[test]
fn malformed_idx_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write(dir.path(), "labels", &[0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
    // Wrong magic (a label file given as images).
    let err = Dataset::from_idx(&labels, &labels, None).unwrap_err();
    assert!(matches!(&err, Error::Idx { reason, .. } if reason.contains("magic")), "{err}");
    // Truncated: 2 images of 2x2 need 8 bytes, 7 present.
    let images = write(dir.path(), "images", &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7]);
    let err = Dataset::from_idx(&images, &labels, None).unwrap_err();
    assert!(matches!(&err, Error::Idx { reason, .. } if reason.contains("need 8 data bytes")), "{err}");
    // Count mismatch: 2 images, 3 labels.
    let images = write(dir.path(), "images", &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    let three = write(dir.path(), "three", &[0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
    assert!(matches!(Dataset::from_idx(&images, &three, None).unwrap_err(), Error::Idx { .. }));
}

#[test]
fn evaluate_file_scores_a_broken_model_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(&Backend::CpuReference).unwrap();
    let data = digits_eval();
    let bytes = digits_model().to_safetensors();
    let cut = write(dir.path(), "cut.safetensors", &bytes[..100]);
    let e = engine.evaluate_file(&cut, &data).unwrap();
    assert_eq!(e.score_ppm, 0);
    assert!(e.rejected.as_deref().unwrap().contains("not a valid safetensors model"), "{:?}", e.rejected);
    // A good file is scored, not rejected.
    let good = write(dir.path(), "good.safetensors", &bytes);
    assert_eq!(engine.evaluate_file(&good, &data).unwrap().rejected, None);
}
