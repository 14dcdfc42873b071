//! The language models' benchmark (not a test): training and evaluation tokens/s of the
//! byte-level `gpt:layers=2,d=64,heads=4,ctx=128` on the device (lavapipe where there is no GPU),
//! on the CPU reference and on PyTorch CPU, and a GPT-2-small-shaped forward pass + loss (12
//! layers, d 768, 12 heads, vocabulary 50,257, random weights, one sequence) on the same three,
//! and LoRA fine-tuning of that base (r 8 on the attention projections, batch 1 x 256 tokens) on
//! the device and on PyTorch + PEFT, all in one run; ratios against PyTorch CPU.
//!
//! `cargo bench -p arena-compute --bench lm`; writes `target/bench/lm.json` at the workspace root
//! and prints a Markdown table. PyTorch runs `benches/lm_torch.py` with the venv that
//! `scripts/python-venv.sh` makes (`~/.cache/arena/venv`); without it the PyTorch rows say so and
//! the others still run. Settings (environment): `BENCH_LM_STEPS` (device training steps, 30),
//! `BENCH_LM_CPU_STEPS` (10), `BENCH_GPT2_TOKENS` (the GPT-2 sequence, 256: 11-24 s a pass on
//! lavapipe here, and 1,024 is over 4x the work), `BENCH_GPT2_CPU=0` skips the CPU reference's
//! GPT-2 pass (70-78 s at 256 here), `BENCH_LORA_LAYERS` (the LoRA base's layers, 12) and
//! `BENCH_LORA_STEPS` (timed LoRA steps after one untimed, 2).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use arena_compute::lm::{
    reference, Encoded, GptSpec, GptWeights, LmTrainConfig, LoraAdapter, LoraConfig, TextCorpus, TokenWindows,
};
use arena_compute::{Backend, Engine, GpuOptions};
use serde_json::{json, Value};

const BYTE_MODEL: &str = "gpt:layers=2,d=64,heads=4,ctx=128";
const GPT2_SMALL: &str = "gpt:layers=12,d=768,heads=12,ctx=1024,vocab=50257";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or("unknown".into(), |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = info.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1));
    name.map_or("unknown CPU".into(), |n| n.trim().to_string())
}

/// Training tokens/s of `steps` steps from `init` (after a 2-step warm-up that compiles the
/// device's pipelines).
fn train_rate(engine: &Engine, init: &GptWeights, data: &TokenWindows, steps: usize) -> f64 {
    let cfg = |steps| LmTrainConfig { steps, report_every: steps, ..LmTrainConfig::default() };
    engine.train_lm(init.clone(), data, &cfg(2), &mut |_| {}).unwrap();
    let cfg = cfg(steps);
    let start = Instant::now();
    engine.train_lm(init.clone(), data, &cfg, &mut |_| {}).unwrap();
    (steps * cfg.batch * (data.window - 1)) as f64 / start.elapsed().as_secs_f64()
}

/// LoRA fine-tuning tokens/s of `steps` steps, one window of `data` each, r 8 on the attention
/// projections over the frozen `base`: timed from the end of the first step (which compiles the
/// pipelines after uploading the base) to the end of the last.
fn lora_rate(engine: &Engine, base: &GptWeights, data: &TokenWindows, steps: usize) -> f64 {
    let init = LoraAdapter::init(&base.spec, &LoraConfig::parse("r=8,alpha=16,targets=attn").unwrap(), "", 1);
    let cfg = LmTrainConfig { steps: steps + 1, batch: 1, report_every: 1, ..LmTrainConfig::default() };
    let mut ends = Vec::new();
    engine.finetune_lora(base, init, data, &cfg, &mut |p| ends.push(p.elapsed)).unwrap();
    (steps * (data.window - 1)) as f64 / (ends[steps] - ends[0]).as_secs_f64()
}

/// Evaluation tokens/s over every window of `data`.
fn eval_rate(engine: &Engine, w: &GptWeights, data: &TokenWindows) -> f64 {
    let start = Instant::now();
    let e = engine.evaluate_lm(w, data).unwrap();
    e.tokens as f64 / start.elapsed().as_secs_f64()
}

/// PyTorch's figures with `threads` intra-op threads (`None`: torch's default), or why there are
/// none.
fn torch(
    root: &Path,
    gpt2_tokens: usize,
    steps: usize,
    lora: (usize, usize),
    threads: Option<usize>,
) -> Result<Value, String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let python = PathBuf::from(home).join(".cache/arena/venv/bin/python");
    if !python.exists() {
        return Err(format!("no {}: run scripts/python-venv.sh for the PyTorch rows", python.display()));
    }
    let script = root.join("packages/arena-compute/benches/lm_torch.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["--train-steps", &steps.to_string(), "--gpt2-tokens", &gpt2_tokens.to_string()])
        .args(["--lora-layers", &lora.0.to_string(), "--lora-steps", &lora.1.to_string()])
        .args(["--threads", &threads.unwrap_or(0).to_string()])
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{}'s output is not JSON: {e}", script.display()))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes; nothing to list.
    }
    std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (steps, cpu_steps) = (env_usize("BENCH_LM_STEPS", 30), env_usize("BENCH_LM_CPU_STEPS", 10));
    let gpt2_tokens = env_usize("BENCH_GPT2_TOKENS", 256);
    let load_before = load_average();
    let gpu = Engine::new(&Backend::Gpu(GpuOptions::default()))
        .expect("the benchmark needs a GPU adapter (lavapipe will do)");
    let cpu = Engine::new(&Backend::CpuReference).unwrap();
    let device = format!("{} ({})", gpu.adapter(), gpu.backend());
    eprintln!(
        "device: {device}; CPU: {} x{}; load average {load_before}",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // The byte-level model on the vendored plays: training windows and the held-out text.
    let spec = GptSpec::parse(BYTE_MODEL).unwrap();
    let corpus = TextCorpus::from_file(&root.join("data/shakespeare.txt")).unwrap();
    let (train, held_out) = corpus.split(0.1);
    let data = train.windows(spec.ctx).unwrap();
    let held =
        |bytes: usize| TextCorpus::from_bytes("held-out", held_out.bytes[..bytes].to_vec()).windows(spec.ctx).unwrap();
    let init = GptWeights::init(&spec, 1);
    let mut rows = Vec::new();
    let mut row = |workload: &str, backend: &str, metric: &str, value: Option<f64>, note: String| {
        eprintln!("{workload} {backend} {metric}: {value:?} {note}");
        rows.push(
            json!({"workload": workload, "backend": backend, "metric": metric, "tokens_per_s": value, "note": note}),
        );
    };
    let device_backend = format!("arena: {device}");
    let train_note = |s: usize| format!("{s} steps of 8 x 128 tokens, AdamW, clip 1.0");
    row(BYTE_MODEL, &device_backend, "train", Some(train_rate(&gpu, &init, &data, steps)), train_note(steps));
    row(
        BYTE_MODEL,
        "arena: cpu reference",
        "train",
        Some(train_rate(&cpu, &init, &data, cpu_steps)),
        train_note(cpu_steps),
    );
    let (eval_device, eval_cpu) = (held(40_000), held(8_000));
    let eval_note = |d: &TokenWindows| format!("{} windows of 128 tokens, batches of 16", d.len());
    row(BYTE_MODEL, &device_backend, "eval", Some(eval_rate(&gpu, &init, &eval_device)), eval_note(&eval_device));
    row(BYTE_MODEL, "arena: cpu reference", "eval", Some(eval_rate(&cpu, &init, &eval_cpu)), eval_note(&eval_cpu));

    // GPT-2 small's shape, random weights: one sequence's forward pass and loss.
    let spec = GptSpec::parse(GPT2_SMALL).unwrap();
    let w = GptWeights::init(&spec, 1);
    let tokens: Vec<u32> =
        (0..=gpt2_tokens as u32).map(|i| i.wrapping_mul(2_654_435_761) % spec.vocab as u32).collect();
    let (inputs, targets) = (&tokens[..gpt2_tokens], &tokens[1..]);
    let device_gpu = gpu.gpu().unwrap();
    device_gpu.run_lm_losses(&w, gpt2_tokens, inputs, targets).unwrap();
    let start = Instant::now();
    let losses = device_gpu.run_lm_losses(&w, gpt2_tokens, inputs, targets).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let gpt2 = format!("GPT-2 small shape, 1 x {gpt2_tokens} tokens");
    let mean = losses.iter().map(|&l| l as f64).sum::<f64>() / losses.len() as f64;
    let note = format!("forward + loss, weights uploaded each pass; {seconds:.1} s; mean loss {mean:.3}");
    row(&gpt2, &device_backend, "forward", Some(gpt2_tokens as f64 / seconds), note);
    if env_usize("BENCH_GPT2_CPU", 1) != 0 {
        let start = Instant::now();
        reference::forward(&w, 1, gpt2_tokens, inputs, targets);
        let seconds = start.elapsed().as_secs_f64();
        row(
            &gpt2,
            "arena: cpu reference",
            "forward",
            Some(gpt2_tokens as f64 / seconds),
            format!("one pass, {seconds:.1} s"),
        );
    } else {
        row(&gpt2, "arena: cpu reference", "forward", None, "skipped (BENCH_GPT2_CPU=0)".into());
    }

    // LoRA fine-tuning of a GPT-2-small-shaped base (its first `lora_layers` layers).
    let (lora_layers, lora_steps) = (env_usize("BENCH_LORA_LAYERS", 12), env_usize("BENCH_LORA_STEPS", 2));
    let spec = GptSpec::parse(&format!("gpt:layers={lora_layers},d=768,heads=12,ctx=1024,vocab=50257")).unwrap();
    let lora_base = GptWeights::init(&spec, 2);
    let ids: Vec<u32> = (0..=(lora_steps + 1) * 256).map(|i| (i as u32).wrapping_mul(2_654_435_761) % 50_257).collect();
    let bytes = vec![1; ids.len()];
    let data = TokenWindows::cut(Encoded { ids, bytes }, None, 256, "seeded ids", String::new()).unwrap();
    let lora = format!("LoRA r 8 (attention) on a GPT-2 small shape, {lora_layers} layers, 1 x 256 tokens");
    let rate = lora_rate(&gpu, &lora_base, &data, lora_steps);
    let note = format!("{lora_steps} steps after one untimed, AdamW, clip 1.0; base frozen");
    row(&lora, &device_backend, "train", Some(rate), note);

    // PyTorch at its default thread count (the baseline of the ratios) and at one thread: on a
    // shared machine its threads wait for each other at every op, one thread does not.
    let mut baseline_backend = String::new();
    for threads in [None, Some(1)] {
        let torch = torch(&root, gpt2_tokens, steps, (lora_layers, lora_steps), threads);
        let backend = match &torch {
            Ok(t) => format!(
                "pytorch {} {}, {} threads, eager",
                t["torch"].as_str().unwrap_or("?"),
                t["device"].as_str().unwrap_or("cpu"),
                t["threads"]
            ),
            Err(_) => format!("pytorch cpu, threads {}", threads.map_or("default".into(), |n| n.to_string())),
        };
        let figure = |key: &str| torch.as_ref().ok().and_then(|t| t[key].as_f64());
        let missing = torch.as_ref().err().cloned().unwrap_or_default();
        row(BYTE_MODEL, &backend, "train", figure("byte_model_train_tokens_per_s"), missing.clone());
        row(BYTE_MODEL, &backend, "eval", figure("byte_model_eval_tokens_per_s"), missing.clone());
        row(&gpt2, &backend, "forward", figure("gpt2_forward_tokens_per_s"), missing.clone());
        let peft = |m: String| {
            if m.is_empty() {
                format!("+ peft {}", torch.as_ref().map_or("?", |t| t["peft"].as_str().unwrap_or("?")))
            } else {
                m
            }
        };
        row(&lora, &backend, "train", figure("gpt2_lora_train_tokens_per_s"), peft(missing));
        if let Err(why) = &torch {
            eprintln!("PyTorch rows missing: {why}");
        }
        if threads.is_none() {
            baseline_backend = backend;
        }
    }

    // Ratios against PyTorch CPU, per (workload, metric).
    let baseline = |r: &Value| {
        rows.iter()
            .find(|b| {
                b["backend"] == baseline_backend.as_str()
                    && b["workload"] == r["workload"]
                    && b["metric"] == r["metric"]
            })
            .and_then(|b| b["tokens_per_s"].as_f64())
    };
    let ratios: Vec<Option<f64>> = rows.iter().map(|r| Some(r["tokens_per_s"].as_f64()? / baseline(r)?)).collect();
    let load_after = load_average();
    let out = json!({
        "machine": {"cpu": cpu_model(), "cores": std::thread::available_parallelism().map_or(1, |n| n.get()), "device": device,
                    "load_average_before": load_before, "load_average_after": load_after},
        "rows": rows.iter().zip(&ratios).map(|(r, x)| { let mut r = r.clone(); r["vs_pytorch_cpu"] = json!(x); r }).collect::<Vec<_>>(),
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("lm.json"), serde_json::to_string_pretty(&out).unwrap()).unwrap();

    println!("load average {load_before} (before), {load_after} (after)\n");
    println!("| workload | backend | measure | tokens/s | vs PyTorch CPU | notes |");
    println!("|---|---|---|---:|---:|---|");
    for (r, x) in rows.iter().zip(&ratios) {
        let value = r["tokens_per_s"].as_f64().map_or("—".into(), |v| format!("{v:.0}"));
        let ratio = x.map_or("—".into(), |x| format!("{x:.3}"));
        let (workload, backend, metric, note) = (&r["workload"], &r["backend"], &r["metric"], &r["note"]);
        println!(
            "| {} | {} | {} | {value} | {ratio} | {} |",
            workload.as_str().unwrap(),
            backend.as_str().unwrap(),
            metric.as_str().unwrap(),
            note.as_str().unwrap()
        );
    }
}
