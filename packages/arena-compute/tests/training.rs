//! Training and evaluation end to end on lavapipe: accuracy on the digits split, determinism,
//! agreement with the CPU reference, chunked data.

mod common;

use std::sync::OnceLock;

use arena_compute::{Backend, Engine, GpuBackend, GpuOptions, Model, ModelSpec, Optimizer, TrainConfig};
use common::{digits_eval, digits_train, gpu, missing_gpu};

/// The digits model with the default configuration (Adam 1e-3, batch 64, 60 epochs, seed 1),
/// trained once for this test binary.
fn digits_model() -> Option<&'static Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let engine = Engine::new(&Backend::Gpu(GpuOptions::default()));
            let engine = match engine {
                Ok(engine) => engine,
                Err(e) => {
                    missing_gpu(&e);
                    return None;
                }
            };
            let spec = ModelSpec::parse("mlp:128,64").unwrap();
            Some(engine.train(&digits_train(), &spec, &TrainConfig::default()).unwrap())
        })
        .as_ref()
}

#[test]
fn digits_mlp_reaches_92_percent_on_the_held_out_writers() {
    let Some(model) = digits_model() else { return };
    let engine = Engine::new(&Backend::Gpu(GpuOptions::default())).unwrap();
    let e = engine.evaluate(model, &digits_eval()).unwrap();
    eprintln!("digits eval: accuracy {:.4}, loss {:.4}, {} ppm", e.accuracy, e.mean_loss, e.score_ppm);
    assert_eq!(e.rows, 359);
    assert!(e.accuracy >= 0.92, "accuracy {} < 0.92", e.accuracy);
    assert_eq!(e.score_ppm as u64, e.correct * 1_000_000 / 359);
}

#[test]
fn evaluation_is_bit_identical_run_to_run_and_across_vulkan_and_gl() {
    let Some(model) = digits_model() else { return };
    let data = digits_eval();
    let vulkan =
        Engine::new(&Backend::Gpu(GpuOptions { backend: Some(GpuBackend::Vulkan), ..Default::default() })).unwrap();
    let a = vulkan.evaluate(model, &data).unwrap();
    let b = vulkan.evaluate(model, &data).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.mean_loss.to_bits(), b.mean_loss.to_bits());
    match Engine::new(&Backend::Gpu(GpuOptions { backend: Some(GpuBackend::Gl), ..Default::default() })) {
        Ok(gl) => {
            let c = gl.evaluate(model, &data).unwrap();
            assert_eq!(c.backend, "gl");
            assert_eq!(
                (c.correct, c.score_ppm, c.mean_loss.to_bits()),
                (a.correct, a.score_ppm, a.mean_loss.to_bits())
            );
        }
        // The GL half needs libegl1 + libgl1-mesa-dri, which scripts/setup.sh installs.
        Err(e) => missing_gpu(&format!("no GL backend for the comparison: {e}")),
    }
}

#[test]
fn gpu_and_cpu_reference_evaluations_agree() {
    let Some(model) = digits_model() else { return };
    let data = digits_eval();
    let g = Engine::new(&Backend::Gpu(GpuOptions::default())).unwrap().evaluate(model, &data).unwrap();
    let c = Engine::new(&Backend::CpuReference).unwrap().evaluate(model, &data).unwrap();
    assert_eq!(g.correct, c.correct);
    // Per-row losses differ only by exp/log ulps; the sums use the same tree.
    assert!((g.mean_loss - c.mean_loss).abs() <= 1e-5 * c.mean_loss, "{} vs {}", g.mean_loss, c.mean_loss);
}

#[test]
fn chunked_data_evaluates_bit_identically_to_one_chunk() {
    let Some(model) = digits_model() else { return };
    // 64 features as u8: 64 bytes a row; 5,000 bytes makes chunks of 78 rows, so the 359 rows take
    // 5 chunks with a short last one.
    let chunked =
        Engine::new(&Backend::Gpu(GpuOptions { max_chunk_bytes: Some(5_000), ..Default::default() })).unwrap();
    let whole = Engine::new(&Backend::Gpu(GpuOptions::default())).unwrap();
    let data = digits_eval();
    assert_eq!(chunked.evaluate(model, &data).unwrap(), whole.evaluate(model, &data).unwrap());
}

fn short_config(seed: u64) -> TrainConfig {
    TrainConfig { epochs: 3, seed, ..TrainConfig::default() }
}

#[test]
fn the_same_seed_and_data_give_a_bit_identical_weights_file() {
    let Some(_) = gpu() else { return };
    let engine = Engine::new(&Backend::Gpu(GpuOptions::default())).unwrap();
    let data = digits_train().slice(0..500);
    let spec = ModelSpec::parse("mlp:32,16").unwrap();
    let a = engine.train(&data, &spec, &short_config(7)).unwrap().to_safetensors();
    let b = engine.train(&data, &spec, &short_config(7)).unwrap().to_safetensors();
    let c = engine.train(&data, &spec, &short_config(8)).unwrap().to_safetensors();
    assert!(a == b, "same seed, same bytes");
    assert!(a != c, "another seed, other weights");
}

#[test]
fn gpu_training_follows_the_cpu_reference_step_for_step() {
    let Some(_) = gpu() else { return };
    let data = digits_train().slice(0..300);
    for (spec, optimizer) in [
        ("mlp:24,12", Optimizer::adam(1e-3)),
        ("mlp:16:tanh", Optimizer::sgd(0.05)),
        ("mlp:16:gelu", Optimizer::adam(1e-3)),
    ] {
        let spec = ModelSpec::parse(spec).unwrap();
        let cfg = TrainConfig { epochs: 2, batch_size: 32, optimizer, ..TrainConfig::default() };
        let g = Engine::new(&Backend::Gpu(GpuOptions::default())).unwrap().train(&data, &spec, &cfg).unwrap();
        let c = Engine::new(&Backend::CpuReference).unwrap().train(&data, &spec, &cfg).unwrap();
        // 20 steps: the only differences are exp/log/tanh ulps in the loss gradient, which the
        // updates carry along without amplifying much (Adam normalizes by the gradient's size, so
        // a tiny gradient can move a weight by up to lr = 1e-3 either way: allow 1e-3).
        let mut worst = 0.0f32;
        for (gl, cl) in g.layers.iter().zip(&c.layers) {
            for (x, y) in gl.weight.iter().chain(&gl.bias).zip(cl.weight.iter().chain(&cl.bias)) {
                worst = worst.max((x - y).abs());
            }
        }
        eprintln!("{spec}: largest weight difference GPU vs CPU reference {worst:e}");
        assert!(worst <= 1e-3, "{spec}: {worst}");
    }
}

#[test]
fn training_on_chunked_data_runs_and_learns() {
    let Some(_) = gpu() else { return };
    // 20,000 bytes: chunks of 312 rows, so 1,438 rows take 5 chunks, each with a short last batch.
    let engine =
        Engine::new(&Backend::Gpu(GpuOptions { max_chunk_bytes: Some(20_000), ..Default::default() })).unwrap();
    let data = digits_train();
    let mut losses = Vec::new();
    let cfg = TrainConfig { epochs: 4, optimizer: Optimizer::adam(1e-2), ..TrainConfig::default() };
    let model = engine
        .train_with_progress(&data, &ModelSpec::parse("mlp:32").unwrap(), &cfg, &mut |r| losses.push(r.mean_loss))
        .unwrap();
    assert!(losses[3] < losses[0] * 0.5, "loss went {losses:?}");
    let e = engine.evaluate(&model, &digits_eval()).unwrap();
    assert!(e.accuracy > 0.8, "{}", e.accuracy);
}
