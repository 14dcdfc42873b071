//! LoRA fine-tuning at GPT-2 small's widths on the device: d 768 in 12 heads, one block (the other
//! 11 would only repeat its buffers), r 8 on the attention projections. The 50,257-token table
//! (154 MB) outgrows lavapipe's 128 MiB binding, so the frozen head's forward and backward read it
//! in blocks. A step equals, bit for bit, the same step with every split forced tiny; and the step
//! follows the CPU reference within `lm_lora.rs`'s tolerances, on a 2,048-token vocabulary and 32
//! positions (the debug-built reference would take minutes at 50,257 x 96). A whole-model step at
//! those widths (189 MB of parameters) binds the table, the gradient norm and AdamW in pieces and
//! steps every parameter as the reference's AdamW does on the device's gradient.

mod common;

use arena_compute::kernels::AdamWParams;
use arena_compute::lm::{reference, GptSpec, GptWeights, Layout, LoraAdapter, LoraConfig};
use arena_compute::{Gpu, GpuOptions};
use common::{close, gpu_with, values};

const ADAM: AdamWParams = AdamWParams { b1: 0.9, b2: 0.99, eps: 1e-8, weight_decay: 0.1, max_norm: 1.0 };
const STEP: [f32; 3] = [1e-3, 10.0, 100.0];

/// A device whose chunks are at most `bytes` (also on a device that binds more than lavapipe).
fn gpu_capped(bytes: u64) -> Option<Gpu> {
    gpu_with(GpuOptions { max_chunk_bytes: Some(bytes), ..Default::default() })
}

/// A one-block base of `spec` with cheap small weights (drawing `GptWeights::init`'s costs seconds
/// in a debug build) and unit LayerNorm gains, and an r 8 adapter on the attention with B nonzero,
/// so that A has a gradient too.
fn model(spec: &str) -> (GptWeights, LoraAdapter) {
    let spec = GptSpec::parse(spec).unwrap();
    let layout = Layout::new(&spec);
    let mut params = values(layout.len, 50, 0.02);
    for r in layout.blocks.iter().flat_map(|b| [&b.ln_1_w, &b.ln_2_w]).chain([&layout.ln_f_w]) {
        params[r.clone()].fill(1.0);
    }
    let base = GptWeights { spec, layout, params };
    let mut adapter = LoraAdapter::init(&spec, &LoraConfig::parse("r=8,alpha=16,targets=attn").unwrap(), "", 4);
    for m in adapter.modules.clone() {
        let b = values(m.b.len(), 60 + m.layer as u64, 0.02);
        adapter.params[m.b.clone()].copy_from_slice(&b);
    }
    (base, adapter)
}

/// Tokens, targets and an assistant-like mask over `n` positions of a `vocab`-token model.
fn batch(n: usize, vocab: usize) -> (Vec<u32>, Vec<u32>, Vec<u8>) {
    let tokens = (0..n).map(|i| (i * 7919 % vocab) as u32).collect();
    let targets = (0..n).map(|i| ((i + 1) * 7919 % vocab) as u32).collect();
    let mask = (0..n).map(|i| (i % 4 != 0) as u8).collect();
    (tokens, targets, mask)
}

#[test]
fn a_gpt2_width_lora_step_past_one_binding_is_bit_identical_with_tiny_chunks() {
    // 128 MiB as lavapipe and GL bind: the table in 2 blocks, 96 rows of logits in one chunk.
    // 1 MiB: the table in 158 blocks of 320 rows, the logits in chunks of 64 and 32 rows (the
    // attention's split is lm_kernels.rs's: 96 x 96 scores per head fit either limit).
    let (Some(binding), Some(tiny)) = (gpu_capped(128 << 20), gpu_capped(1 << 20)) else { return };
    let (base, adapter) = model("gpt:layers=1,d=768,heads=12,ctx=96,vocab=50257");
    let t = base.spec.ctx;
    let (tokens, targets, mask) = batch(t, base.spec.vocab);
    let step = |gpu: &Gpu| gpu.run_lora_step(&base, &adapter, t, &tokens, &targets, &mask, &ADAM, STEP).unwrap();
    let (loss, grads, after) = step(&binding);
    let mean = loss.iter().map(|&l| l as f64).sum::<f64>() / t as f64;
    eprintln!("mean loss {mean:.4} over {t} positions (ln 50257 = {:.4})", (base.spec.vocab as f64).ln());
    assert!((mean - (base.spec.vocab as f64).ln()).abs() < 0.5, "{mean}");
    assert!(grads.iter().all(|g| g.is_finite()) && grads.iter().any(|&g| g != 0.0), "a real gradient");
    assert!(after.params != adapter.params, "the step moved the adapter");
    assert!(step(&tiny) == (loss, grads, after), "tiny chunks: the same losses, gradient and adapter, bit for bit");
}

#[test]
fn a_gpt2_width_lora_step_follows_the_reference() {
    let Some(gpu) = gpu_capped(1 << 20) else { return };
    // Vocabulary 2,048: the 6 MB table in 5 blocks of 320 rows under the 1 MiB chunk.
    let (base, adapter) = model("gpt:layers=1,d=768,heads=12,ctx=32,vocab=2048");
    let t = base.spec.ctx;
    let (tokens, targets, mask) = batch(t, base.spec.vocab);
    let (loss, grads, after) = gpu.run_lora_step(&base, &adapter, t, &tokens, &targets, &mask, &ADAM, STEP).unwrap();

    let mut fwd = reference::forward_lora(&base, Some(&adapter), 1, t, &tokens, &targets);
    close(&loss, &fwd.row_loss, 1e-5, 1e-6, "per-position loss");
    reference::mask_dlogits(base.spec.vocab, &mask, &mut fwd.dlogits);
    let (_, want) = reference::backward_lora(&base, Some(&adapter), &fwd, &tokens);
    for m in &adapter.modules {
        for (name, r) in [("A", &m.a), ("B", &m.b)] {
            let scale = want[r.clone()].iter().fold(0.0f32, |a, g| a.max(g.abs()));
            assert!(scale > 0.0, "{:?} {name} has a gradient", m.target);
            let what = format!("{:?} {name}", m.target);
            close(&grads[r.clone()], &want[r.clone()], 1e-3, 1e-3 * scale, &what);
        }
    }
    // AdamW without decay on the device's own gradient.
    let (mut w, mut m, mut v) = (adapter.params.clone(), vec![0.0; adapter.len()], vec![0.0; adapter.len()]);
    let norm_sq = reference::grad_norm_sq(&grads);
    reference::adamw(&ADAM, STEP[0], STEP[1], STEP[2], norm_sq, 0, &mut w, &grads, &mut m, &mut v);
    close(&after.params, &w, 1e-6, 1e-7, "adapter after the step");
}

#[test]
fn a_gpt2_width_training_step_binds_its_parameters_in_ranges() {
    let Some(gpu) = gpu_capped(128 << 20) else { return };
    // 47.3 M parameters (189 MB): AdamW and the gradient norm in 2 ranges, the table's gradient
    // (and the embedding's) in 2 blocks.
    let (w, _) = model("gpt:layers=1,d=768,heads=12,ctx=64,vocab=50257");
    let t = w.spec.ctx;
    let (tokens, targets, _) = batch(t, w.spec.vocab);
    let (loss, grads, after) = gpu.run_lm_step(&w, t, &tokens, &targets, &ADAM, STEP).unwrap();
    assert!(loss.iter().all(|l| l.is_finite()) && grads.iter().all(|g| g.is_finite()));
    let table = &grads[w.layout.wte.clone()];
    for token in [tokens[0] as usize, tokens[t - 1] as usize, targets[t - 1] as usize] {
        assert!(table[token * 768..(token + 1) * 768].iter().any(|&g| g != 0.0), "token {token}'s row has a gradient");
    }
    // AdamW with decay on the prefix, on the device's own gradient.
    let (mut want, mut m, mut v) = (w.params.clone(), vec![0.0; w.layout.len], vec![0.0; w.layout.len]);
    let norm_sq = reference::grad_norm_sq(&grads);
    reference::adamw(&ADAM, STEP[0], STEP[1], STEP[2], norm_sq, w.layout.decay_len, &mut want, &grads, &mut m, &mut v);
    close(&after.params, &want, 1e-6, 1e-7, "weights after the step");
}
