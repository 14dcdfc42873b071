//! Datasets: CSV and MNIST IDX loaders, feature storage, feature scaling, file hashes.
//!
//! Every file that goes into a dataset is hashed (sha256 of its bytes as stored, compressed or
//! not), so a validator can check it evaluates on the data the task committed to. Files ending in
//! `.gz` (or starting with gzip's magic bytes) are decompressed on the fly.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Feature values, row-major. Integers in 0..=255 (IDX images, digits' 0..16 pixels) are kept as
/// u8: a quarter of the memory on the device, so a 60,000 x 784 set fits one storage binding.
#[derive(Clone, Debug, PartialEq)]
pub enum Features {
    U8(Vec<u8>),
    F32(Vec<f32>),
}

impl Features {
    pub fn get(&self, i: usize) -> f32 {
        match self {
            Features::U8(v) => v[i] as f32,
            Features::F32(v) => v[i],
        }
    }

    /// Bytes per value on the device.
    pub(crate) fn value_bytes(&self) -> usize {
        match self {
            Features::U8(_) => 1,
            Features::F32(_) => 4,
        }
    }
}

/// A file a dataset was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFile {
    pub path: PathBuf,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
}

/// A labelled classification dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub rows: usize,
    pub cols: usize,
    pub features: Features,
    /// One per row, each below [`Dataset::classes`].
    pub labels: Vec<u32>,
    /// The files it came from (empty for data built in memory).
    pub files: Vec<DataFile>,
    /// How errors and reports name it: the first file's path, or a given name.
    pub name: String,
}

/// Where the label is in a CSV row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LabelColumn {
    First,
    #[default]
    Last,
    /// A 0-based column index.
    Index(usize),
}

impl std::str::FromStr for LabelColumn {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "first" => Ok(LabelColumn::First),
            "last" => Ok(LabelColumn::Last),
            n => n
                .parse()
                .map(LabelColumn::Index)
                .map_err(|_| format!("{s:?}: expected first, last or a 0-based column index")),
        }
    }
}

/// How to read a CSV file.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsvOptions {
    pub label_column: LabelColumn,
    /// Skip the first line.
    pub header: bool,
    /// When set, every label must be below it.
    pub classes: Option<usize>,
}

fn read_file(path: &Path) -> Result<(Vec<u8>, DataFile)> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
    let file = DataFile { path: path.to_path_buf(), sha256: hex::encode(Sha256::digest(&raw)) };
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| Error::Io { path: path.to_path_buf(), reason: format!("gzip: {e}") })?;
        out
    } else {
        raw
    };
    Ok((bytes, file))
}

impl Dataset {
    /// Builds a dataset from memory, checking sizes and labels.
    pub fn from_parts(
        name: &str,
        cols: usize,
        features: Features,
        labels: Vec<u32>,
        classes: Option<usize>,
    ) -> Result<Dataset> {
        let path = PathBuf::from(name);
        let rows = labels.len();
        let len = match &features {
            Features::U8(v) => v.len(),
            Features::F32(v) => v.len(),
        };
        if rows == 0 || cols == 0 || len != rows * cols {
            return Err(Error::EmptyDataset {
                path,
                reason: format!("{len} feature values do not make {rows} rows of {cols} (non-zero) columns"),
            });
        }
        if let Features::F32(v) = &features {
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::NotANumber { path, line: i / cols + 1, column: i % cols, value: v[i].to_string() });
            }
        }
        let ds = Dataset { rows, cols, features, labels, files: Vec::new(), name: name.to_string() };
        if let Some(classes) = classes {
            ds.check_labels(classes)?;
        }
        Ok(ds)
    }

    /// Reads a CSV file: one row per line, comma-separated numbers, blank lines ignored.
    pub fn from_csv(path: &Path, opts: &CsvOptions) -> Result<Dataset> {
        let (bytes, file) = read_file(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|e| Error::Io { path: path.into(), reason: format!("not UTF-8 text: {e}") })?;
        let mut values: Vec<f32> = Vec::new();
        let mut labels = Vec::new();
        let mut width = None;
        for (i, line) in text.lines().enumerate().skip(opts.header as usize) {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let n = *width.get_or_insert(fields.len());
            if fields.len() != n {
                return Err(Error::RaggedRow { path: path.into(), line: line_no, expected: n, found: fields.len() });
            }
            let label_at = match opts.label_column {
                LabelColumn::First => 0,
                LabelColumn::Last => n - 1,
                LabelColumn::Index(c) if c < n => c,
                LabelColumn::Index(c) => {
                    return Err(Error::RaggedRow { path: path.into(), line: line_no, expected: c + 1, found: n });
                }
            };
            for (column, field) in fields.iter().enumerate() {
                if field.is_empty() {
                    return Err(Error::MissingValue { path: path.into(), line: line_no, column });
                }
                if column == label_at {
                    let label = field
                        .parse::<u32>()
                        .or_else(|_| match field.parse::<f64>() {
                            Ok(x) if x >= 0.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(x as u32),
                            _ => Err(()),
                        })
                        .map_err(|_| Error::BadLabel { path: path.into(), line: line_no, value: field.to_string() })?;
                    labels.push(label);
                } else {
                    match field.parse::<f32>() {
                        Ok(x) if x.is_finite() => values.push(x),
                        _ => {
                            return Err(Error::NotANumber {
                                path: path.into(),
                                line: line_no,
                                column,
                                value: field.to_string(),
                            })
                        }
                    }
                }
            }
        }
        let cols = width.unwrap_or(0).saturating_sub(1);
        if labels.is_empty() || cols == 0 {
            return Err(Error::EmptyDataset {
                path: path.into(),
                reason: "no rows with a label and at least one feature".into(),
            });
        }
        let features = if values.iter().all(|&x| x.fract() == 0.0 && (0.0..=255.0).contains(&x)) {
            Features::U8(values.iter().map(|&x| x as u8).collect())
        } else {
            Features::F32(values)
        };
        let ds =
            Dataset { rows: labels.len(), cols, features, labels, files: vec![file], name: path.display().to_string() };
        if let Some(classes) = opts.classes {
            ds.check_labels(classes)?;
        }
        Ok(ds)
    }

    /// Reads an MNIST-style pair: an IDX3 u8 image file (magic 0x00000803) and an IDX1 u8 label file
    /// (magic 0x00000801) with the same count.
    pub fn from_idx(images: &Path, labels: &Path, classes: Option<usize>) -> Result<Dataset> {
        let (img, img_file) = read_file(images)?;
        let (lab, lab_file) = read_file(labels)?;
        let (idims, ipix) = parse_idx(&img, images, 3)?;
        let (ldims, lvals) = parse_idx(&lab, labels, 1)?;
        if idims[0] != ldims[0] {
            return Err(Error::Idx {
                path: labels.into(),
                reason: format!("{} labels for {} images in {}", ldims[0], idims[0], images.display()),
            });
        }
        let cols = idims[1] * idims[2];
        if idims[0] == 0 || cols == 0 {
            return Err(Error::EmptyDataset {
                path: images.into(),
                reason: format!("{} images of {}x{}", idims[0], idims[1], idims[2]),
            });
        }
        let ds = Dataset {
            rows: idims[0],
            cols,
            features: Features::U8(ipix.to_vec()),
            labels: lvals.iter().map(|&l| l as u32).collect(),
            files: vec![img_file, lab_file],
            name: images.display().to_string(),
        };
        if let Some(classes) = classes {
            ds.check_labels(classes)?;
        }
        Ok(ds)
    }

    /// Number of classes the labels imply: the largest label plus one.
    pub fn classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |&m| m as usize + 1)
    }

    /// The rows of `self` followed by those of `other`, which must have as many columns; values
    /// stay u8 only when both are.
    pub fn concat(&self, other: &Dataset) -> Result<Dataset> {
        if self.cols != other.cols {
            return Err(Error::Config(format!(
                "cannot join {} ({} columns) and {} ({} columns)",
                self.name, self.cols, other.name, other.cols
            )));
        }
        let features = match (&self.features, &other.features) {
            (Features::U8(a), Features::U8(b)) => Features::U8([a.as_slice(), b].concat()),
            (a, b) => {
                let (n, m) = (self.rows * self.cols, other.rows * other.cols);
                Features::F32((0..n).map(|i| a.get(i)).chain((0..m).map(|i| b.get(i))).collect())
            }
        };
        Ok(Dataset {
            rows: self.rows + other.rows,
            cols: self.cols,
            features,
            labels: [self.labels.as_slice(), &other.labels].concat(),
            files: [self.files.as_slice(), &other.files].concat(),
            name: format!("{}+{}", self.name, other.name),
        })
    }

    /// The round's baseline: the accuracy, in parts per million rounded down, of the trivial model
    /// that answers the most frequent label for every row, `floor(count of the most frequent
    /// label * 1,000,000 / rows)`. Every validator computes it from the same shard with this one
    /// function, so honest baselines agree to the unit. 0 for an empty set.
    pub fn majority_class_ppm(&self) -> u32 {
        let mut counts = std::collections::BTreeMap::<u32, u64>::new();
        for &label in &self.labels {
            *counts.entry(label).or_default() += 1;
        }
        crate::engine::score_ppm(counts.values().copied().max().unwrap_or(0), self.rows)
    }

    /// Fails on the first label >= `classes`, naming the file and row (the label's file for IDX).
    pub fn check_labels(&self, classes: usize) -> Result<()> {
        match self.labels.iter().position(|&l| l as usize >= classes) {
            None => Ok(()),
            Some(row) => {
                let path = self.files.last().map_or_else(|| PathBuf::from(&self.name), |f| f.path.clone());
                Err(Error::LabelOutOfRange { path, line: row + 1, label: self.labels[row] as u64, classes })
            }
        }
    }

    /// The identity of the data: the file's sha256 for one file; for several (IDX pairs), the
    /// sha256 of their hex digests joined by newlines, in order.
    pub fn sha256(&self) -> String {
        match self.files.as_slice() {
            [one] => one.sha256.clone(),
            many => {
                let joined: Vec<&str> = many.iter().map(|f| f.sha256.as_str()).collect();
                hex::encode(Sha256::digest(joined.join("\n")))
            }
        }
    }

    /// Rows `range` as a new dataset (same files, named with the range).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Dataset {
        let (a, b) = (range.start * self.cols, range.end * self.cols);
        let features = match &self.features {
            Features::U8(v) => Features::U8(v[a..b].to_vec()),
            Features::F32(v) => Features::F32(v[a..b].to_vec()),
        };
        Dataset {
            rows: range.len(),
            cols: self.cols,
            features,
            labels: self.labels[range.clone()].to_vec(),
            files: self.files.clone(),
            name: format!("{}[{}..{}]", self.name, range.start, range.end),
        }
    }
}

/// Parses an IDX file of u8 values with `ndims` dimensions; returns the dimensions and the data.
fn parse_idx<'a>(bytes: &'a [u8], path: &Path, ndims: usize) -> Result<(Vec<usize>, &'a [u8])> {
    let err = |reason: String| Error::Idx { path: path.into(), reason };
    if bytes.len() < 4 {
        return Err(err(format!("{} bytes, shorter than the 4-byte magic number", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] as usize != ndims {
        return Err(err(format!(
            "magic {:02x}{:02x}{:02x}{:02x}, expected 000008{:02x} (unsigned bytes, {ndims} dimensions)",
            bytes[0], bytes[1], bytes[2], bytes[3], ndims
        )));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(err(format!("truncated header: {} bytes", bytes.len())));
    }
    let dims: Vec<usize> =
        (0..ndims).map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().unwrap()) as usize).collect();
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("dimensions {dims:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != len {
        return Err(err(format!("dimensions {dims:?} need {len} data bytes, the file has {}", data.len())));
    }
    let dims = if ndims == 1 { vec![dims[0], 1, 1] } else { dims };
    Ok((dims, data))
}

/// The kind of feature scaling fitted on training data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScalingKind {
    /// Per feature: subtract the mean, divide by the standard deviation (1 where it is 0).
    #[default]
    Standard,
    /// Per feature: map [min, max] to [0, 1] (unchanged where max = min).
    MinMax,
    /// No scaling.
    None,
}

impl ScalingKind {
    pub fn name(self) -> &'static str {
        match self {
            ScalingKind::Standard => "standard",
            ScalingKind::MinMax => "minmax",
            ScalingKind::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(ScalingKind::Standard),
            "minmax" => Some(ScalingKind::MinMax),
            "none" => Some(ScalingKind::None),
            _ => None,
        }
    }
}

impl std::str::FromStr for ScalingKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        ScalingKind::parse(s).ok_or_else(|| format!("{s:?}: expected standard, minmax or none"))
    }
}

/// Feature scaling stored with the model: x' = (x - offset) * scale, per feature.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    pub kind: ScalingKind,
    pub offset: Vec<f32>,
    pub scale: Vec<f32>,
}

impl Scaling {
    pub fn identity(cols: usize) -> Scaling {
        Scaling { kind: ScalingKind::None, offset: vec![0.0; cols], scale: vec![1.0; cols] }
    }

    /// Fits the scaling on `data` (sums in f64, rows in order: deterministic).
    pub fn fit(kind: ScalingKind, data: &Dataset) -> Scaling {
        let (rows, cols) = (data.rows, data.cols);
        let column = |f: usize| (0..rows).map(move |r| data.features.get(r * cols + f) as f64);
        let (offset, scale) = match kind {
            ScalingKind::None => return Scaling::identity(cols),
            ScalingKind::Standard => (0..cols)
                .map(|f| {
                    let mean = column(f).sum::<f64>() / rows as f64;
                    let var = column(f).map(|x| (x - mean) * (x - mean)).sum::<f64>() / rows as f64;
                    let std = var.sqrt();
                    (mean as f32, if std > 1e-12 { (1.0 / std) as f32 } else { 1.0 })
                })
                .unzip(),
            ScalingKind::MinMax => (0..cols)
                .map(|f| {
                    let (lo, hi) =
                        column(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
                    (lo as f32, if hi > lo { (1.0 / (hi - lo)) as f32 } else { 1.0 })
                })
                .unzip(),
        };
        Scaling { kind, offset, scale }
    }

    /// Scaled feature f of value x, exactly as the gather kernel computes it.
    pub(crate) fn apply(&self, f: usize, x: f32) -> f32 {
        (x - self.offset[f]) * self.scale[f]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(labels: &[u32]) -> Dataset {
        Dataset::from_parts("t", 1, Features::U8(vec![0; labels.len()]), labels.to_vec(), None).unwrap()
    }

    #[test]
    fn joined_sets_keep_every_row_in_order() {
        let a = labelled(&[1, 2]);
        let b = Dataset::from_parts("f", 1, Features::F32(vec![0.5]), vec![3], None).unwrap();
        let ab = a.concat(&b).unwrap();
        assert_eq!((ab.rows, ab.labels.clone(), ab.features), (3, vec![1, 2, 3], Features::F32(vec![0.0, 0.0, 0.5])));
        assert_eq!(a.concat(&a).unwrap().features, Features::U8(vec![0; 4]), "u8 stays u8");
        let wide = Dataset::from_parts("w", 2, Features::U8(vec![0; 2]), vec![0], None).unwrap();
        assert!(a.concat(&wide).is_err());
    }

    #[test]
    fn the_baseline_is_the_majority_class_share_rounded_down() {
        // 3 of 7 rows are label 2: 428,571.43 ppm.
        assert_eq!(labelled(&[2, 0, 2, 1, 2, 0, 5]).majority_class_ppm(), 428_571);
        // A tie counts the tied share once.
        assert_eq!(labelled(&[0, 1, 0, 1]).majority_class_ppm(), 500_000);
        assert_eq!(labelled(&[4, 4, 4]).majority_class_ppm(), 1_000_000);
        assert_eq!(labelled(&[9]).majority_class_ppm(), 1_000_000);
    }
}
