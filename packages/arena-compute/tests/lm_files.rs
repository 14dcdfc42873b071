//! The language model's files: Hugging Face's directory layout written deterministically and read
//! back exactly, real checkpoints' naming variants accepted, and every bad input refused with its
//! own typed error. No GPU needed.

use std::path::Path;

use arena_compute::lm::{GptSpec, GptWeights, TextCorpus, CONFIG_FILE, WEIGHTS_FILE};
use arena_compute::Error;

fn spec() -> GptSpec {
    GptSpec::parse("gpt:layers=2,d=8,heads=2,ctx=6,vocab=10").unwrap()
}

/// A safetensors file of the given (name, shape, values) tensors, written by the safetensors
/// crate itself (as a Python exporter would), not by our writer.
fn safetensors_file(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            (name.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b).unwrap())
        })
        .collect();
    safetensors::tensor::serialize(views, None).unwrap()
}

/// The model's tensors by name, as a checkpoint would list them.
fn named(w: &GptWeights) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    w.layout.tensors(&w.spec).into_iter().map(|(n, s, r)| (n, s, w.params[r].to_vec())).collect()
}

fn write_dir(dir: &Path, config: &str, weights: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(CONFIG_FILE), config).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
}

#[test]
fn save_and_load_round_trip_exactly_and_the_same_weights_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let w = GptWeights::init(&spec(), 4);
    let sha = w.save(&tmp.path().join("m")).unwrap();
    let (back, sha2) = GptWeights::load(&tmp.path().join("m")).unwrap();
    assert_eq!(back, w);
    assert_eq!(sha, sha2);
    assert_eq!(GptWeights::init(&spec(), 4).save(&tmp.path().join("again")).unwrap(), sha);
    assert_ne!(GptWeights::init(&spec(), 5).save(&tmp.path().join("other")).unwrap(), sha);
    // Hugging Face's loader requires the `pt` format tag.
    let bytes = std::fs::read(tmp.path().join("m").join(WEIGHTS_FILE)).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(meta.metadata().as_ref().unwrap()["format"], "pt");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("m").join(CONFIG_FILE)).unwrap()).unwrap();
    assert_eq!(
        (config["n_layer"].as_u64(), config["n_embd"].as_u64(), config["n_head"].as_u64()),
        (Some(2), Some(8), Some(2))
    );
    assert_eq!((config["n_positions"].as_u64(), config["vocab_size"].as_u64()), (Some(6), Some(10)));
}

#[test]
fn init_follows_gpt2() {
    let w = GptWeights::init(&GptSpec::parse("gpt:layers=4,d=64,heads=4,ctx=128").unwrap(), 1);
    let std = |r: &std::ops::Range<usize>| {
        let v = &w.params[r.clone()];
        (v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    assert!((std(&w.layout.wte) - 0.02).abs() < 0.001);
    assert!((std(&w.layout.blocks[0].fc_w) - 0.02).abs() < 0.001);
    // The projections into the residual stream: 0.02 / sqrt(2 * 4 layers).
    assert!((std(&w.layout.blocks[3].mlp_proj_w) - 0.02 / 8f64.sqrt()).abs() < 0.0005);
    assert!(w.params[w.layout.ln_f_w.clone()].iter().all(|&x| x == 1.0));
    assert!(w.params[w.layout.blocks[1].attn_b.clone()].iter().all(|&x| x == 0.0));
    // Decayed tensors first: every matrix below decay_len, every vector above.
    let l = &w.layout;
    assert!(l.blocks.iter().all(|b| b.mlp_proj_w.end <= l.decay_len && b.ln_1_w.start >= l.decay_len));
}

#[test]
fn checkpoints_with_the_transformer_prefix_mask_buffers_and_a_tied_head_load_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let w = GptWeights::init(&spec(), 4);
    let mut tensors: Vec<_> = named(&w).into_iter().map(|(n, s, v)| (format!("transformer.{n}"), s, v)).collect();
    for i in 0..2 {
        // GPT2LMHeadModel's old causal-mask buffers, [1, 1, n_positions, n_positions].
        tensors.push((format!("transformer.h.{i}.attn.bias"), vec![1, 1, 6, 6], vec![1.0; 36]));
        tensors.push((format!("transformer.h.{i}.attn.masked_bias"), vec![], vec![-1e4]));
    }
    tensors.push(("lm_head.weight".into(), vec![10, 8], w.params[w.layout.wte.clone()].to_vec()));
    write_dir(&tmp.path().join("hf"), &spec().to_config_json(), &safetensors_file(&tensors));
    let (back, _) = GptWeights::load(&tmp.path().join("hf")).unwrap();
    assert_eq!(back, w);
}

#[test]
fn every_bad_model_directory_is_refused_with_its_own_error() {
    let tmp = tempfile::tempdir().unwrap();
    let w = GptWeights::init(&spec(), 4);
    let config = spec().to_config_json();
    let good = safetensors_file(&named(&w));
    let load = |name: &str, config: &str, weights: &[u8]| {
        let dir = tmp.path().join(name);
        write_dir(&dir, config, weights);
        GptWeights::load(&dir).unwrap_err()
    };

    // config.json says d = 16; the tensors are d = 8.
    let wider = config.replace("\"n_embd\": 8", "\"n_embd\": 16");
    match load("wider", &wider, &good) {
        Error::TensorShape { tensor, expected, found, .. } => {
            assert_eq!((tensor.as_str(), expected, found), ("wte.weight", vec![10, 16], vec![10, 8]));
        }
        e => panic!("{e}"),
    }
    // config.json says one layer; the file has two.
    let shallower = config.replace("\"n_layer\": 2", "\"n_layer\": 1");
    match load("shallower", &shallower, &good) {
        Error::ModelMetadata { reason, .. } => assert!(reason.contains("h.1."), "{reason}"),
        e => panic!("{e}"),
    }
    // Truncated weights.
    assert!(matches!(load("truncated", &config, &good[..good.len() - 3]), Error::NotSafetensors { .. }));
    // A NaN in one weight.
    let mut nan = named(&w);
    nan[5].2[5] = f32::NAN;
    match load("nan", &config, &safetensors_file(&nan)) {
        Error::NonFinite { tensor, index, .. } => assert_eq!((tensor.as_str(), index), ("h.0.attn.c_attn.bias", 5)),
        e => panic!("{e}"),
    }
    // A missing tensor, an unknown one, an untied head.
    let missing: Vec<_> = named(&w).into_iter().filter(|(n, _, _)| n != "ln_f.bias").collect();
    assert!(
        matches!(load("missing", &config, &safetensors_file(&missing)), Error::MissingTensor { tensor, .. } if tensor == "ln_f.bias")
    );
    let mut extra = named(&w);
    extra.push(("h.0.mlp.c_gate.weight".into(), vec![8, 8], vec![0.0; 64]));
    assert!(
        matches!(load("extra", &config, &safetensors_file(&extra)), Error::ModelMetadata { reason, .. } if reason.contains("c_gate"))
    );
    let mut untied = named(&w);
    untied.push(("lm_head.weight".into(), vec![10, 8], vec![0.5; 80]));
    assert!(
        matches!(load("untied", &config, &safetensors_file(&untied)), Error::ModelMetadata { reason, .. } if reason.contains("untied"))
    );
    // Configs that are not GPT-2's math, or not JSON.
    let relu = config.replace("gelu_new", "relu");
    assert!(
        matches!(load("relu", &relu, &good), Error::ModelConfig { reason, .. } if reason.contains("activation_function"))
    );
    assert!(matches!(load("notjson", "{\"n_layer\": ", &good), Error::ModelConfig { .. }));
    // No config at all.
    let dir = tmp.path().join("noconfig");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), &good).unwrap();
    assert!(matches!(GptWeights::load(&dir).unwrap_err(), Error::Io { .. }));
    // All of these are the model's fault: a validator would score them 0.
    assert!(load("nan2", &config, &safetensors_file(&nan)).is_model_fault());
    assert!(load("relu2", &relu, &good).is_model_fault());
}

#[test]
fn the_vendored_corpus_is_the_documented_file_and_splits_as_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/shakespeare.txt");
    let corpus = TextCorpus::from_file(&path).unwrap();
    // data/README.md gives this hash, the sizes and where the text comes from.
    assert_eq!(corpus.sha256(), "d61e8627e54dcb8db43c834dcc0af0e82e81be9535f74b74b53cec183be3390d");
    assert_eq!(corpus.bytes.len(), 1_151_370);
    let (train, held_out) = corpus.split(0.1);
    assert_eq!(held_out.bytes.len(), 115_121);
    assert!(train.bytes.ends_with(b"\n"));
    let windows = held_out.windows(128).unwrap();
    assert_eq!((windows.len(), windows.target_bytes), (899, 115_072));
}
