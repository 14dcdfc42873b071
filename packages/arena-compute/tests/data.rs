//! The vendored data and the loaders: hashes as recorded, CSV and IDX agreeing, gzip.

mod common;

use arena_compute::{CsvOptions, Dataset, Features, Scaling, ScalingKind};
use common::{data_dir, digits_eval, digits_train};

#[test]
fn vendored_digits_files_have_the_sha256_recorded_in_data_readme() {
    let readme = std::fs::read_to_string(data_dir().join("README.md")).unwrap();
    for (file, ds) in [
        ("digits-train.csv", digits_train()),
        ("digits-eval.csv", digits_eval()),
        ("digits.csv.gz", Dataset::from_csv(&data_dir().join("digits.csv.gz"), &CsvOptions::default()).unwrap()),
    ] {
        let sha = ds.sha256();
        assert!(readme.contains(&format!("`{sha}`")), "{file}: sha256 {sha} is not in data/README.md");
        assert_eq!(ds.files[0].sha256, sha);
    }
}

#[test]
fn the_split_is_the_first_1438_and_last_359_rows_of_digits() {
    let all = Dataset::from_csv(&data_dir().join("digits.csv.gz"), &CsvOptions::default()).unwrap();
    let (train, eval) = (digits_train(), digits_eval());
    assert_eq!((all.rows, all.cols, all.classes()), (1797, 64, 10));
    assert_eq!((train.rows, eval.rows), (1438, 359));
    assert_eq!(train.features, all.slice(0..1438).features);
    assert_eq!(eval.labels, all.slice(1438..1797).labels);
    assert!(matches!(train.features, Features::U8(_)), "0..16 pixels are stored as u8");
}

fn idx(magic_dims: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, magic_dims];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[test]
fn idx_files_load_to_the_same_dataset_as_the_csv_and_gzip_is_transparent() {
    let eval = digits_eval();
    let Features::U8(pixels) = &eval.features else { panic!("u8 expected") };
    let labels: Vec<u8> = eval.labels.iter().map(|&l| l as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images-idx3-ubyte");
    std::fs::write(&images, idx(3, &[359, 8, 8], pixels)).unwrap();
    let label_path = dir.path().join("labels-idx1-ubyte.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &idx(1, &[359], &labels)).unwrap();
    std::fs::write(&label_path, gz.finish().unwrap()).unwrap();

    let ds = Dataset::from_idx(&images, &label_path, Some(10)).unwrap();
    assert_eq!((ds.rows, ds.cols), (359, 64));
    assert_eq!(ds.features, eval.features);
    assert_eq!(ds.labels, eval.labels);
    assert_eq!(ds.files.len(), 2);
    assert_ne!(ds.sha256(), ds.files[0].sha256, "two files: a digest of both");
}

#[test]
fn scaling_is_fitted_per_feature() {
    let ds =
        Dataset::from_parts("mem", 2, Features::F32(vec![0.0, 5.0, 2.0, 5.0, 4.0, 5.0]), vec![0, 1, 0], None).unwrap();
    let std = Scaling::fit(ScalingKind::Standard, &ds);
    assert_eq!(std.offset, vec![2.0, 5.0]);
    assert!((std.scale[0] - 1.0 / (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
    assert_eq!(std.scale[1], 1.0, "a constant feature is left unscaled");
    let mm = Scaling::fit(ScalingKind::MinMax, &ds);
    assert_eq!((mm.offset.clone(), mm.scale.clone()), (vec![0.0, 5.0], vec![0.25, 1.0]));
}
