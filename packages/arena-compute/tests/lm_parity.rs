//! Parity with Hugging Face: a tiny random GPT-2 built and saved by transformers, and a PEFT LoRA
//! adapter on it (nonzero A and B, on `c_attn` and on every `c_proj` by PEFT's suffix rule), load
//! through Arena's loaders and give the logits and loss torch computes for the base, the adapter
//! applied, and the adapter merged (PEFT's `merge_and_unload` against ours). The other way, the
//! base and an adapter on all four modules as Arena writes them load in transformers and PEFT and
//! give Arena's outputs.
//!
//! The Python side (`tests/parity/gpt2_parity.py`) runs in the venv `scripts/python-venv.sh`
//! makes outside the repository (pinned torch, transformers, peft; about a minute the first time,
//! instant after). Only when that venv cannot be made (PyPI unreachable) does the test skip, and
//! it prints why; any other failure fails it.
//!
//! A second test does the same for a byte-level BPE tokenizer (`tests/parity/bpe_parity.py`):
//! trained by Hugging Face `tokenizers` on the plays and saved with a tiny GPT-2 of its
//! vocabulary as one model directory, it gives Arena the same token ids as Python (exactly), and
//! the model the same logits, the same mean loss over every window and the same count of target
//! tokens and bytes.
//!
//! Tolerance: every logit within 1e-5 of torch's, relative to the largest logit magnitude (the
//! two sum in different orders in f32; the test prints the worst difference: 1.3e-7 here, with
//! loss differences of 1.4e-8), and the loss within 1e-6 relative.

use std::path::{Path, PathBuf};
use std::process::Command;

use arena_compute::lm::{reference, GptWeights, LoraAdapter, LoraConfig, TextCorpus, Tokenizer};
use arena_compute::{Backend, Engine};
use serde_json::Value;

const LOGIT_TOLERANCE: f64 = 1e-5;
const LOSS_TOLERANCE: f64 = 1e-6;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python, or the reason there is none.
fn python() -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/python-venv.sh"))
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(stdout.lines().last().unwrap_or_default().trim()))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// Largest |ours - theirs| relative to the largest |theirs|; fails above the tolerance.
fn compare(what: &str, ours: &[f32], ours_loss: f64, theirs: &Value) {
    let expected = floats(&theirs["logits"]);
    assert_eq!(ours.len(), expected.len(), "{what}: logit count");
    let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let worst = ours.iter().zip(&expected).map(|(&a, b)| (a as f64 - b).abs()).fold(0.0, f64::max) / scale;
    let loss = theirs["loss"].as_f64().unwrap();
    let loss_err = (ours_loss - loss).abs() / loss;
    eprintln!("{what}: worst logit difference {worst:.2e} (relative), loss {ours_loss:.6} vs torch {loss:.6} ({loss_err:.2e})");
    assert!(worst <= LOGIT_TOLERANCE, "{what}: logits differ from torch's by {worst:e} relative");
    assert!(loss_err <= LOSS_TOLERANCE, "{what}: loss {ours_loss} vs torch's {loss}");
}

/// The venv's python, or None (with the reason printed) when it cannot be made here.
fn python_or_skip() -> Option<PathBuf> {
    python()
        .map_err(|reason| {
            eprintln!("SKIPPED lm_parity: the Python venv with torch/transformers/peft cannot be made here: {reason}")
        })
        .ok()
}

#[test]
fn transformers_and_peft_agree_with_arena() {
    let Some(python) = python_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/gpt2_parity.py");
    let status = Command::new(&python).arg(&script).arg(dir.path()).status().expect("run the parity script");
    assert!(status.success(), "{} {} failed", python.display(), script.display());
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("parity.json")).unwrap()).unwrap();
    eprintln!("versions: {}", results["versions"]);
    let tokens: Vec<u32> = results["tokens"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let targets: Vec<u32> = results["targets"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let t = tokens.len();

    // The base, as transformers saved it.
    let (base, sha256) = GptWeights::load(&dir.path().join("base")).expect("Arena loads transformers' GPT-2");
    assert_eq!(sha256, results["base_sha256"].as_str().unwrap());
    let fwd = reference::forward(&base, 1, t, &tokens, &targets);
    compare("base", &fwd.logits, fwd.mean_loss(), &results["base"]);

    // PEFT's adapter, applied.
    let adapter_dir = dir.path().join("adapter");
    let (adapter, _) = LoraAdapter::load(&adapter_dir, &base.spec).expect("Arena loads PEFT's adapter");
    adapter.check_base(&sha256, &adapter_dir).expect("the adapter names this base");
    assert_eq!((adapter.config.r, adapter.config.alpha, adapter.modules.len()), (4, 8.0, 2 * 3));
    let fwd = reference::forward_lora(&base, Some(&adapter), 1, t, &tokens, &targets);
    compare("adapter", &fwd.logits, fwd.mean_loss(), &results["adapter"]);

    // Merged by us, against merged by PEFT.
    let merged = adapter.merge(&base).unwrap();
    let fwd = reference::forward(&merged, 1, t, &tokens, &targets);
    compare("merged", &fwd.logits, fwd.mean_loss(), &results["merged"]);

    // The other way: transformers and PEFT load what Arena writes (our config.json and weights
    // writer, our adapter on all four modules with our target names), and compute our outputs.
    let ours = LoraConfig::parse("r=3,alpha=5,targets=all").unwrap();
    let mut mine = LoraAdapter::init(&base.spec, &ours, &sha256, 11);
    for m in mine.modules.clone() {
        for (i, p) in mine.params[m.b.clone()].iter_mut().enumerate() {
            *p = 0.5 * (((i * 5 + m.layer) % 9) as f32 / 4.0 - 1.0);
        }
    }
    let (base_dir, adapter_dir) = (dir.path().join("arena-base"), dir.path().join("arena-adapter"));
    base.save(&base_dir).unwrap();
    mine.save(&adapter_dir).unwrap();
    let seq = dir.path().join("tokens.json");
    std::fs::write(&seq, serde_json::json!({ "tokens": tokens, "targets": targets }).to_string()).unwrap();
    let out = dir.path().join("arena-in-peft.json");
    let status = Command::new(&python)
        .arg(&script)
        .args(["--load".as_ref(), base_dir.as_os_str(), adapter_dir.as_os_str(), seq.as_os_str(), out.as_os_str()])
        .status()
        .expect("run the parity script");
    assert!(status.success(), "PEFT could not load Arena's files");
    let theirs: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let fwd = reference::forward_lora(&base, Some(&mine), 1, t, &tokens, &targets);
    let plain = reference::forward(&base, 1, t, &tokens, &targets);
    let moved = fwd.logits.iter().zip(&plain.logits).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(moved > 1e-2, "the adapter moves the logits well past the tolerance ({moved})");
    compare("Arena's adapter in PEFT", &fwd.logits, fwd.mean_loss(), &theirs);
}

#[test]
fn a_hugging_face_bpe_tokenizer_and_model_agree_with_arena() {
    let Some(python) = python_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity/bpe_parity.py");
    let plays = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/shakespeare.txt");
    let status = Command::new(&python).arg(&script).arg(dir.path()).arg(&plays).status().expect("run the script");
    assert!(status.success(), "{} {} failed", python.display(), script.display());
    let results: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("bpe.json")).unwrap()).unwrap();
    eprintln!("versions: {}", results["versions"]);

    // The model directory decides the tokenizer: its tokenizer.json, of the config's vocabulary.
    let model_dir = dir.path().join("model");
    let (model, _) = GptWeights::load(&model_dir).expect("Arena loads transformers' GPT-2");
    let tokenizer = Tokenizer::for_model(&model_dir, &model.spec).expect("the tokenizer fits the model");
    assert!(matches!(tokenizer, Tokenizer::HuggingFace(_)));
    assert_eq!((tokenizer.vocab() as u64, model.spec.vocab as u64), (512, results["vocab"].as_u64().unwrap()));

    let text = std::fs::read(dir.path().join("text.txt")).unwrap();
    let ids = tokenizer.encode(&text, "text.txt").unwrap().ids;
    let theirs: Vec<u32> = results["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    assert_eq!(ids, theirs, "the same token ids as Python's tokenizers");
    assert_eq!(tokenizer.decode(&ids).unwrap(), text);

    let t = model.spec.ctx;
    let fwd = reference::forward(&model, 1, t, &ids[..t], &ids[1..=t]);
    compare("BPE model, first window", &fwd.logits, fwd.mean_loss(), &results["first_window"]);

    // Every window as evaluation cuts and counts them.
    let windows = TextCorpus::from_bytes("text.txt", text).windows_with(&tokenizer, t).unwrap();
    let e = Engine::new(&Backend::CpuReference).unwrap().evaluate_lm(&model, &windows).unwrap();
    let expected = &results["windows"];
    assert_eq!(
        (e.tokens, e.bytes),
        (expected["targets"].as_u64().unwrap(), expected["target_bytes"].as_u64().unwrap())
    );
    let loss = expected["mean_loss"].as_f64().unwrap();
    let loss_err = (e.mean_loss - loss).abs() / loss;
    eprintln!(
        "BPE model, {} windows: loss {:.6} vs torch {loss:.6} ({loss_err:.2e}), {} tokens for {} bytes, {:.4} bits per byte",
        windows.len(),
        e.mean_loss,
        e.tokens,
        e.bytes,
        e.bits_per_byte
    );
    assert!(loss_err <= LOSS_TOLERANCE, "mean loss {} vs torch's {loss}", e.mean_loss);
}
