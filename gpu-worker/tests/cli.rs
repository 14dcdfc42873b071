//! The `gpu-worker` binary: train, eval (human and --json), info, backends.

mod common;

use std::process::Command;

use common::{byte_level_bpe_json, data_dir};

fn gpu_worker() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gpu-worker"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

fn run(c: &mut Command) -> (bool, String, String) {
    let out = c.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// Whether the machine has a GPU adapter; without one the test fails unless GPU tests are
/// skipped knowingly ([`common::missing_gpu`]).
fn has_adapter() -> bool {
    let (ok, _, err) = run(gpu_worker().arg("info"));
    if !ok {
        assert!(err.contains("no GPU adapter found"), "info failed without the no-adapter message: {err}");
        common::missing_gpu(&err);
    }
    ok
}

#[test]
fn train_then_eval_json_reports_score_hashes_and_device() {
    if !has_adapter() {
        return;
    }
    let backend = "vulkan";
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    let train = data_dir().join("digits-train.csv");
    let (ok, out, err) = run(gpu_worker()
        .args(["--backend", backend, "train", "--model", "mlp:16", "--epochs", "2", "--lr", "0.01", "--out"])
        .arg(&model)
        .arg("--data")
        .arg(&train));
    assert!(ok, "{err}");
    assert!(out.contains("sha256"), "{out}");

    let (ok, out, err) = run(gpu_worker()
        .args(["--backend", backend, "eval", "--json", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(data_dir().join("digits-eval.csv")));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let score = v["score_ppm"].as_u64().unwrap();
    assert!(score > 500_000 && score <= 1_000_000, "{v}");
    assert_eq!(v["rows"], 359);
    assert_eq!(v["data_sha256"], "521e39c1a973296ba1f30543d7a7271ac79876da4228992081d270a26204df8a");
    assert_eq!(v["model_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(v["backend"], backend);
    assert!(v["accuracy"].as_f64().unwrap() > 0.5 && v["mean_loss"].as_f64().unwrap() > 0.0);
    assert!(v["rejected"].is_null());
}

#[test]
fn eval_json_of_a_broken_model_reports_zero_and_the_reason_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("broken.safetensors");
    std::fs::write(&model, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":").unwrap();
    let data = data_dir().join("digits-eval.csv");
    let (ok, out, err) = run(gpu_worker()
        .args(["--backend", "cpu-reference", "eval", "--json", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&data));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["score_ppm"], 0);
    assert!(v["rejected"].as_str().unwrap().contains("broken.safetensors"), "{v}");
    // Without --json the same model is an error naming the file.
    let (ok, _, err) =
        run(gpu_worker().args(["--backend", "cpu-reference", "eval", "--model"]).arg(&model).arg("--data").arg(&data));
    assert!(!ok);
    assert!(err.contains("broken.safetensors") && err.contains("not a valid safetensors model"), "{err}");
}

#[test]
fn bad_data_is_an_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, "1,2,0\n3,x,1\n").unwrap();
    let (ok, _, err) =
        run(gpu_worker().args(["--backend", "cpu-reference", "train", "--out", "/dev/null", "--data"]).arg(&data));
    assert!(!ok);
    assert!(err.contains("bad.csv: line 2, column 1: \"x\" is not a finite number"), "{err}");
}

#[test]
fn info_lists_adapters_with_backend_and_limits() {
    if !has_adapter() {
        return;
    }
    let (ok, out, _) = run(gpu_worker().arg("info"));
    assert!(ok);
    assert!(out.contains("max storage binding") && out.contains("selected:"), "{out}");
    let (ok, out, _) = run(gpu_worker().args(["--backend", "cpu-reference", "info"]));
    assert!(ok && out.contains("cpu-reference"));
}

#[test]
fn a_bpe_model_pretrains_evaluates_and_generates_through_its_tokenizer_json() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = dir.path().join("bpe.json");
    std::fs::write(&tokenizer, byte_level_bpe_json(8)).unwrap();
    let text = dir.path().join("plays.txt");
    std::fs::write(&text, &std::fs::read(data_dir().join("shakespeare.txt")).unwrap()[..20_000]).unwrap();
    let model = dir.path().join("model");
    let cpu = ["--backend", "cpu-reference"];
    let (ok, out, err) = run(gpu_worker()
        .args(cpu)
        .args(["pretrain", "--model", "gpt:layers=1,d=16,heads=2,ctx=32", "--steps", "3", "--tokenizer"])
        .arg(&tokenizer)
        .arg("--data")
        .arg(&text)
        .arg("--out")
        .arg(&model));
    assert!(ok, "{err}");
    assert!(err.contains("vocab=264"), "the vocabulary is the tokenizer's: {err}");
    assert!(out.contains("held out"), "{out}");
    assert_eq!(std::fs::read(model.join("tokenizer.json")).unwrap(), std::fs::read(&tokenizer).unwrap());

    let chat = dir.path().join("chat.jsonl");
    let lines = std::fs::read_to_string(data_dir().join("shakespeare-instruct.jsonl")).unwrap();
    std::fs::write(&chat, lines.lines().take(30).collect::<Vec<_>>().join("\n")).unwrap();
    let (ok, out, err) =
        run(gpu_worker().args(cpu).args(["eval", "--json", "--model"]).arg(&model).arg("--data").arg(&chat));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (tokens, bytes) = (v["tokens"].as_u64().unwrap(), v["bytes"].as_u64().unwrap());
    assert!(0 < tokens && tokens < bytes, "merged tokens stand for several bytes: {v}");
    let expected = v["mean_loss"].as_f64().unwrap() * tokens as f64 / std::f64::consts::LN_2 / bytes as f64;
    assert!((v["bits_per_byte"].as_f64().unwrap() - expected).abs() < 1e-9, "{v}");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&tokenizer).unwrap()));
    assert_eq!(v["tokenizer_sha256"], sha.as_str());

    let (ok, out, err) =
        run(gpu_worker().args(cpu).args(["generate", "--prompt", "the", "--tokens", "8", "--model"]).arg(&model));
    assert!(ok && out.starts_with("the"), "{err}");

    // A tokenizer with ids the model has no embedding for is refused, naming the file.
    std::fs::write(model.join("tokenizer.json"), byte_level_bpe_json(10)).unwrap();
    let (ok, _, err) = run(gpu_worker().args(cpu).args(["eval", "--model"]).arg(&model).arg("--data").arg(&chat));
    assert!(!ok && err.contains("tokenizer.json") && err.contains("has vocab_size = 264"), "{err}");
}

/// `--adapter` picks the GPU; a LoRA adapter's directory given there is named as the slip it is.
#[test]
fn a_lora_directory_given_as_the_gpu_adapter_says_to_use_lora() {
    let dir = tempfile::tempdir().unwrap();
    let lora = dir.path().join("adapter");
    std::fs::create_dir(&lora).unwrap();
    std::fs::write(lora.join("adapter_config.json"), "{}").unwrap();
    let (ok, _, err) = run(gpu_worker()
        .arg("--adapter")
        .arg(&lora)
        .args(["pretrain", "--steps", "1", "--data"])
        .arg(data_dir().join("shakespeare.txt"))
        .arg("--out")
        .arg(dir.path().join("model")));
    assert!(!ok && err.contains("is a LoRA adapter's directory: give it with --lora"), "{err}");
}
