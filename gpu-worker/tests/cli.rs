//! The `gpu-worker` binary: train, eval (human and --json), info, backends.

mod common;

use std::process::Command;

use common::data_dir;

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
