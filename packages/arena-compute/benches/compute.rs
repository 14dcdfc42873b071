//! The compute core's benchmark (not a test): training and evaluation throughput and GFLOP/s on
//! (a) digits 64-128-64-10 and (b) a synthetic MNIST-sized set (60,000 x 784, 784-256-128-10),
//! on the GPU (lavapipe where there is no GPU), the CPU reference, and a CPU baseline with an
//! optimized single-threaded GEMM (the `matrixmultiply` crate) measured in the same run; plus
//! matmul GFLOP/s at 1024^3 (and 4096^3 on a real GPU).
//!
//! Writes `target/bench/compute.json` at the workspace root and prints a Markdown table.
//! `cargo bench -p arena-compute --bench compute`; `BENCH_MNIST_CPU_ROWS` (default 6,000) sets how
//! many MNIST rows the two CPU trainers run (their per-sample cost does not depend on it);
//! `BENCH_ONLY=matmul` stops after the matmul figures (and writes no JSON).

use std::path::PathBuf;
use std::time::Instant;

use arena_compute::kernels::{MatmulShape, MatmulVariant};
use arena_compute::{
    cpu, reference, Backend, CsvOptions, Dataset, Engine, Features, GpuOptions, Model, ModelSpec, TrainConfig,
};
use serde_json::{json, Value};

fn fast_gemm(s: &MatmulShape, a: &[f32], b: &[f32], c: &mut [f32]) {
    s.check(a.len(), b.len(), c.len());
    // SAFETY: the shape check above proves every index the strides reach is inside a, b and c.
    unsafe {
        matrixmultiply::sgemm(
            s.m,
            s.k,
            s.n,
            1.0,
            a.as_ptr(),
            s.a_row_stride as isize,
            s.a_col_stride as isize,
            b.as_ptr(),
            s.b_row_stride as isize,
            s.b_col_stride as isize,
            0.0,
            c.as_mut_ptr(),
            s.n as isize,
            1,
        )
    }
}

/// FLOPs of one training sample (forward 2 in out per layer, weight gradient 2 in out, input
/// gradient 2 in out except for the first layer) and of one evaluation sample (forward).
fn flops(dims: &[(usize, usize)]) -> (f64, f64) {
    let fwd: f64 = dims.iter().map(|&(i, o)| 2.0 * (i * o) as f64).sum();
    let first = 2.0 * (dims[0].0 * dims[0].1) as f64;
    (3.0 * fwd - first, fwd)
}

/// A seeded synthetic MNIST-sized set: 10 class prototypes of 28x28 u8 pixels plus noise.
fn synthetic_mnist(rows: usize) -> Dataset {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let protos: Vec<Vec<u8>> =
        (0..10).map(|_| (0..784).map(|_| if next() % 4 == 0 { (next() % 256) as u8 } else { 0 }).collect()).collect();
    let mut pixels = Vec::with_capacity(rows * 784);
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let c = (next() % 10) as usize;
        labels.push(c as u32);
        for &p in &protos[c] {
            let noise = (next() % 96) as i32 - 48;
            pixels.push((p as i32 + noise).clamp(0, 255) as u8);
        }
    }
    Dataset::from_parts("synthetic-mnist-60000x784", 784, Features::U8(pixels), labels, Some(10)).unwrap()
}

struct Row {
    workload: String,
    backend: String,
    train_samples_per_s: f64,
    train_gflops: f64,
    eval_samples_per_s: f64,
    eval_gflops: f64,
    seconds: f64,
    accuracy: Option<f64>,
}

impl Row {
    fn json(&self) -> Value {
        json!({
            "workload": self.workload, "backend": self.backend,
            "train_samples_per_s": self.train_samples_per_s, "train_gflops": self.train_gflops,
            "eval_samples_per_s": self.eval_samples_per_s, "eval_gflops": self.eval_gflops,
            "train_seconds": self.seconds, "eval_accuracy": self.accuracy,
        })
    }
}

enum Runner<'a> {
    Engine(&'a Engine),
    Cpu(reference::Gemm),
}

impl Runner<'_> {
    fn train(&self, data: &Dataset, spec: &ModelSpec, cfg: &TrainConfig) -> Model {
        match self {
            Runner::Engine(e) => e.train(data, spec, cfg).unwrap(),
            Runner::Cpu(gemm) => cpu::train(data, spec, cfg, *gemm, &mut |_| {}).unwrap(),
        }
    }

    fn eval(&self, model: &Model, data: &Dataset) -> f64 {
        match self {
            Runner::Engine(e) => e.evaluate(model, data).unwrap().accuracy,
            Runner::Cpu(gemm) => cpu::evaluate(model, data, *gemm).1 as f64 / data.rows as f64,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn measure(
    workload: &str,
    backend: &str,
    runner: &Runner,
    train: &Dataset,
    eval: &Dataset,
    spec: &ModelSpec,
    cfg: &TrainConfig,
    eval_reps: usize,
) -> Row {
    let dims = spec.layer_dims(train.cols, 10);
    let (train_flops, eval_flops) = flops(&dims);
    let t = Instant::now();
    let model = runner.train(train, spec, cfg);
    let seconds = t.elapsed().as_secs_f64();
    let samples = (cfg.epochs * train.rows) as f64;
    let accuracy = runner.eval(&model, eval);
    let t = Instant::now();
    for _ in 0..eval_reps {
        runner.eval(&model, train);
    }
    let eval_s = t.elapsed().as_secs_f64() / eval_reps as f64;
    let row = Row {
        workload: workload.to_string(),
        backend: backend.to_string(),
        train_samples_per_s: samples / seconds,
        train_gflops: samples * train_flops / seconds / 1e9,
        eval_samples_per_s: train.rows as f64 / eval_s,
        eval_gflops: train.rows as f64 * eval_flops / eval_s / 1e9,
        seconds,
        accuracy: Some(accuracy),
    };
    eprintln!("{workload:>24} {backend:>32}: train {:>9.0} samples/s {:>6.2} GFLOP/s ({seconds:.2} s), eval {:>9.0} samples/s, accuracy {accuracy:.4}", row.train_samples_per_s, row.train_gflops, row.eval_samples_per_s);
    row
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes; nothing to list.
    }
    std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let engine = Engine::new(&Backend::Gpu(GpuOptions::default()))
        .expect("the benchmark needs a GPU adapter (lavapipe will do)");
    let gpu = engine.gpu().unwrap();
    gpu.warm_up();
    let device = format!("{} ({}, {:?})", engine.adapter(), engine.backend(), gpu.matmul_variant());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("device: {device}; CPU: {} x{cores}", cpu_model());

    // Matmul GFLOP/s.
    let mut matmul = Vec::new();
    let sizes: &[usize] = if gpu.adapter().device_type == "Cpu" { &[1024] } else { &[1024, 4096] };
    for &n in sizes {
        let f = 2.0 * (n as f64).powi(3);
        for variant in [MatmulVariant::RegisterBlocked, MatmulVariant::Tiled] {
            let t = gpu.time_matmul(variant, n, n, n, 3).unwrap().as_secs_f64();
            eprintln!("matmul {n}^3 gpu {variant:?}: {:.2} GFLOP/s", f / t / 1e9);
            matmul.push(json!({"n": n, "backend": format!("gpu {variant:?}"), "gflops": f / t / 1e9, "seconds": t}));
        }
        let s = MatmulShape::nn(n, n, n);
        let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32).collect();
        let mut c = vec![0.0; n * n];
        for (name, gemm) in [
            ("cpu matrixmultiply (1 thread)", fast_gemm as reference::Gemm),
            ("cpu reference", reference::matmul as reference::Gemm),
        ] {
            if n > 1024 && name == "cpu reference" {
                continue;
            }
            let t = Instant::now();
            gemm(&s, &a, &a, &mut c);
            let t = t.elapsed().as_secs_f64();
            eprintln!("matmul {n}^3 {name}: {:.2} GFLOP/s", f / t / 1e9);
            matmul.push(json!({"n": n, "backend": name, "gflops": f / t / 1e9, "seconds": t}));
        }
    }

    if std::env::var("BENCH_ONLY").as_deref() == Ok("matmul") {
        return;
    }
    let mut rows = Vec::new();
    // (a) digits, 60 epochs, Adam, batch 64: the test's configuration.
    let all = Dataset::from_csv(&root.join("data/digits.csv.gz"), &CsvOptions::default()).unwrap();
    let (train, eval) = (all.slice(0..1438), all.slice(1438..1797));
    let spec = ModelSpec::parse("mlp:128,64").unwrap();
    let cfg = TrainConfig::default();
    let gpu_name = format!("gpu: {}", engine.adapter());
    rows.push(measure("digits 64-128-64-10", &gpu_name, &Runner::Engine(&engine), &train, &eval, &spec, &cfg, 20));
    rows.push(measure(
        "digits 64-128-64-10",
        "cpu reference",
        &Runner::Cpu(reference::matmul),
        &train,
        &eval,
        &spec,
        &cfg,
        20,
    ));
    rows.push(measure(
        "digits 64-128-64-10",
        "cpu matrixmultiply (1 thread)",
        &Runner::Cpu(fast_gemm),
        &train,
        &eval,
        &spec,
        &cfg,
        20,
    ));

    // (b) MNIST-sized: one epoch; the CPU trainers on the first rows only.
    let mnist = synthetic_mnist(60_000);
    let cpu_rows: usize = std::env::var("BENCH_MNIST_CPU_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(6_000);
    let (m_train, m_eval) = (mnist.slice(0..50_000), mnist.slice(50_000..60_000));
    let spec = ModelSpec::parse("mlp:256,128").unwrap();
    let cfg = TrainConfig { epochs: 1, ..TrainConfig::default() };
    rows.push(measure(
        "mnist-sized 784-256-128-10",
        &gpu_name,
        &Runner::Engine(&engine),
        &mnist,
        &m_eval,
        &spec,
        &cfg,
        1,
    ));
    let small = m_train.slice(0..cpu_rows);
    rows.push(measure(
        "mnist-sized 784-256-128-10",
        "cpu reference",
        &Runner::Cpu(reference::matmul),
        &small,
        &m_eval,
        &spec,
        &cfg,
        1,
    ));
    rows.push(measure(
        "mnist-sized 784-256-128-10",
        "cpu matrixmultiply (1 thread)",
        &Runner::Cpu(fast_gemm),
        &small,
        &m_eval,
        &spec,
        &cfg,
        1,
    ));

    let out = json!({
        "machine": {"cpu": cpu_model(), "cores": cores, "device": device},
        "matmul": matmul,
        "workloads": rows.iter().map(Row::json).collect::<Vec<_>>(),
        "notes": {
            "digits": "60 epochs, Adam 1e-3, batch 64, seed 1; train on rows 0..1438, accuracy on rows 1438..1797; eval throughput over the 1,438 training rows, mean of 20",
            "mnist": format!("synthetic 60,000 x 784 u8 (10 noisy prototypes); one epoch, batch 64; the GPU trains on all 60,000 rows, the CPU trainers on the first {cpu_rows}; eval throughput over the rows trained on; accuracy on rows 50,000..60,000"),
            "gflops": "2 m n k per matmul; training counts forward, weight-gradient and input-gradient matmuls (the first layer has no input gradient), evaluation the forward ones; elementwise work is not counted"
        }
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("compute.json"), serde_json::to_string_pretty(&out).unwrap()).unwrap();

    println!("| workload | backend | train samples/s | train GFLOP/s | eval samples/s | eval GFLOP/s | train time | eval accuracy |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} s | {:.4} |",
            r.workload,
            r.backend,
            r.train_samples_per_s,
            r.train_gflops,
            r.eval_samples_per_s,
            r.eval_gflops,
            r.seconds,
            r.accuracy.unwrap_or(f64::NAN)
        );
    }
    println!();
    println!("| matmul | backend | GFLOP/s |");
    println!("| --- | --- | ---: |");
    for m in &matmul {
        println!("| {}^3 | {} | {:.2} |", m["n"], m["backend"].as_str().unwrap(), m["gflops"].as_f64().unwrap());
    }
    eprintln!("wrote {}", dir.join("compute.json").display());
}
