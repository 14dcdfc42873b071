//! The language model's kernels against `lm::reference`, on lavapipe in CI, at sizes that cross
//! the workgroups (t = 67 rows of attention against 64-invocation workgroups, widths that are no
//! multiple of anything).
//!
//! Tolerances, and why:
//! - embedding and its gradients, bias and residual adds, the squared gradient norm: the same
//!   additions in the same order, one rounding each: exact (`assert_eq!`) on any device that does
//!   not reorder f32 additions, which WGSL forbids.
//! - LayerNorm, attention, cross-entropy, GELU, AdamW: sqrt, division, exp and tanh may differ by
//!   a few ulp from Rust's libm (Vulkan allows more), and a difference early in a row (the mean,
//!   the softmax's sum) moves every later value of the row by about that relative amount: we allow
//!   1e-5 relative plus an absolute 1e-6 times the row's scale (100+ ulp), far above what lavapipe
//!   shows and far below any effect on training.
//! - a whole training step (the forward, loss and backward of two blocks): those ulp differences
//!   pass through ~40 kernels; each gradient is compared with 1e-3 of the largest gradient of its
//!   tensor plus 1e-3 relative.

mod common;

use arena_compute::kernels::{AdamWParams, MatmulVariant};
use arena_compute::lm::{reference, GptSpec, GptWeights, LoraAdapter, LoraConfig};
use arena_compute::{reference as base, Activation};
use common::{close, gpu, values};

fn tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    values(n, seed, 1.0).iter().map(|v| ((v + 1.0) * 0.5 * vocab as f32) as u32 % vocab as u32).collect()
}

#[test]
fn embedding_and_its_gradients_are_exact() {
    let Some(gpu) = gpu() else { return };
    let (b, t, d, vocab, ctx) = (3, 45, 29, 37, 50);
    let toks = tokens(b * t, vocab, 1);
    let (wte, wpe) = (values(vocab * d, 2, 0.5), values(ctx * d, 3, 0.5));
    let got = gpu.run_embed(b, t, d, ctx, &toks, &wte, &wpe).unwrap();
    let mut want = vec![0.0; b * t * d];
    reference::embed(d, t, &toks, &wte, &wpe, &mut want);
    assert_eq!(got, want);

    // The token gradient adds into what the tied output layer left there.
    let dx = values(b * t * d, 4, 1.0);
    let dwte_in = values(vocab * d, 5, 1.0);
    let (dwte, dwpe) = gpu.run_embed_grads(b, t, d, ctx, &toks, &dx, &dwte_in).unwrap();
    let (order, starts) = reference::token_segments(&toks, vocab);
    let (mut rwte, mut rwpe) = (dwte_in.clone(), vec![1.0; ctx * d]);
    reference::embed_token_grad(d, &order, &starts, &dx, &mut rwte);
    reference::embed_pos_grad(d, b, t, &dx, &mut rwpe);
    assert_eq!(dwte, rwte, "token gradient: the same segment sums in the same order");
    assert_eq!(dwpe, rwpe, "position gradient, zero past t");
    assert!(dwpe[t * d..].iter().all(|&v| v == 0.0));
    // An absent token's row is untouched.
    let absent = (0..vocab).find(|v| !toks.contains(&(*v as u32)));
    if let Some(v) = absent {
        assert_eq!(dwte[v * d..(v + 1) * d], dwte_in[v * d..(v + 1) * d]);
    }
}

#[test]
fn layernorm_forward_and_backward_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    let (rows, d) = (131, 29);
    // An offset mean and a spread of scales, as the residual stream has.
    let x: Vec<f32> = values(rows * d, 6, 2.0).iter().enumerate().map(|(i, v)| v * (1 + i % 5) as f32 + 3.0).collect();
    let (w, bias) = (values(d, 7, 1.0), values(d, 8, 0.5));
    let (y, mean, rstd) = gpu.run_layernorm(d, 1e-5, &x, &w, &bias).unwrap();
    let (mut ry, mut rmean, mut rrstd) = (vec![0.0; rows * d], vec![0.0; rows], vec![0.0; rows]);
    reference::layernorm(d, 1e-5, &x, &w, &bias, &mut ry, &mut rmean, &mut rrstd);
    assert_eq!(mean, rmean, "a sum and one division: exact");
    close(&rstd, &rrstd, 1e-5, 0.0, "rstd");
    close(&y, &ry, 1e-5, 1e-6, "y");

    let dy = values(rows * d, 9, 1.0);
    let dx_in = values(rows * d, 10, 1.0);
    for accumulate in [false, true] {
        let (dx, dw, db) = gpu.run_layernorm_backward(d, &x, &rmean, &rrstd, &w, &dy, &dx_in, accumulate).unwrap();
        let (mut rdx, mut rdw, mut rdb) = (dx_in.clone(), vec![0.0; d], vec![0.0; d]);
        reference::layernorm_backward(d, &x, &rmean, &rrstd, &w, &dy, &mut rdx, accumulate);
        reference::layernorm_param_grad(d, &x, &rmean, &rrstd, &dy, &mut rdw, &mut rdb);
        close(&dx, &rdx, 1e-5, 1e-5, &format!("dx (accumulate {accumulate})"));
        close(&dw, &rdw, 1e-5, 1e-5, "dw");
        assert_eq!(db, rdb, "column sums in row order: exact");
    }
}

#[test]
fn causal_attention_forward_and_backward_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    // t = 67: one row past a 64-invocation workgroup; 3 heads of 5.
    let (b, t, heads, hd) = (2, 67, 3, 5);
    let d = heads * hd;
    let qkv = values(b * t * 3 * d, 11, 1.5);
    let scale = 1.0 / (hd as f32).sqrt();
    let (p, o) = gpu.run_attention(b, t, heads, hd, &qkv).unwrap();
    let (mut rp, mut ro) = (vec![0.0; b * heads * t * t], vec![0.0; b * t * d]);
    reference::attention(b, t, heads, hd, scale, &qkv, &mut rp, &mut ro);
    close(&p, &rp, 1e-5, 1e-7, "P");
    close(&o, &ro, 1e-5, 1e-6, "o");
    for (r, row) in p.chunks(t).enumerate() {
        assert!(row[r % t + 1..].iter().all(|&v| v == 0.0), "row {r} is causal");
    }

    let dout = values(b * t * d, 12, 1.0);
    let (ds, dqkv) = gpu.run_attention_backward(b, t, heads, hd, &qkv, &rp, &dout).unwrap();
    let (mut rds, mut rdqkv) = (vec![0.0; rp.len()], vec![0.0; qkv.len()]);
    reference::attention_backward(b, t, heads, hd, scale, &qkv, &rp, &dout, &mut rds, &mut rdqkv);
    close(&ds, &rds, 1e-5, 1e-6, "dS");
    close(&dqkv, &rdqkv, 1e-5, 1e-5, "dqkv");
}

#[test]
fn bias_and_residual_adds_are_exact() {
    let Some(gpu) = gpu() else { return };
    let (rows, cols) = (77, 93);
    let (res, z, bias) = (values(rows * cols, 13, 2.0), values(rows * cols, 14, 1.0), values(cols, 15, 1.0));
    let (added, out) = gpu.run_bias_residual(cols, &res, &z, &bias).unwrap();
    let (mut radded, mut rout) = (z.clone(), vec![0.0; z.len()]);
    reference::bias_add(cols, &bias, &mut radded);
    reference::bias_residual(cols, &res, &z, &bias, &mut rout);
    assert_eq!((added, out), (radded, rout));
}

#[test]
fn gelu_and_vocabulary_cross_entropy_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    // The MLP's GELU is the classifier's kernel (tanh form, as GPT-2's gelu_new), at 4d = 116.
    let (rows, cols) = (45, 116);
    let z = values(rows * cols, 16, 4.0);
    let bias = values(cols, 17, 0.5);
    let (_, g) = gpu.run_bias_act(rows, cols, Some(Activation::Gelu), &bias, &z).unwrap();
    let (mut rz, mut rg) = (z.clone(), vec![0.0; z.len()]);
    base::bias_act(cols, Some(Activation::Gelu), &bias, &mut rz, &mut rg);
    close(&g, &rg, 1e-5, 1e-6, "gelu");
    // GPT-2's gelu_new at a few points, from its formula in f64.
    for (i, &v) in rz.iter().enumerate().take(50) {
        let x = v as f64;
        let want = 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh());
        assert!((g[i] as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "gelu({x}) = {} vs {want}", g[i]);
    }

    // Cross-entropy over a byte vocabulary: 45 positions x 256 logits.
    let vocab = 256;
    let logits = values(rows * vocab, 18, 6.0);
    let targets = tokens(rows, vocab, 19);
    let (grad, loss, _) = gpu.run_softmax_xent(vocab, &logits, &targets).unwrap();
    for r in 0..rows {
        let row = &logits[r * vocab..(r + 1) * vocab];
        let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
        let want = lse - row[targets[r] as usize] as f64;
        assert!((loss[r] as f64 - want).abs() < 1e-5 * want.max(1.0), "row {r}: {} vs {want}", loss[r]);
        let gsum: f32 = grad[r * vocab..(r + 1) * vocab].iter().sum();
        assert!(gsum.abs() < 1e-6, "a softmax gradient row sums to 0, got {gsum}");
    }
}

#[test]
fn gradient_norm_is_exact_and_adamw_matches_the_reference() {
    let Some(gpu) = gpu() else { return };
    // 1.1M elements: past 256 x 4096, so each invocation sums two squares and the tree has three
    // levels.
    let n = 1_100_000;
    let (w, g) = (values(n, 20, 1.0), values(n, 21, 0.01));
    let (m, v) = (values(n, 22, 0.001), values(n, 23, 1e-5).iter().map(|x| x.abs()).collect::<Vec<_>>());
    let decay_len = 700_001;
    let step = [3e-3, 1.0 / (1.0 - 0.9f32.powi(4)), 1.0 / (1.0 - 0.99f32.powi(4))];
    for max_norm in [0.0, 1.0] {
        let p = AdamWParams { b1: 0.9, b2: 0.99, eps: 1e-8, weight_decay: 0.1, max_norm };
        let run = gpu.run_adamw(&p, step, decay_len, &w, &g, &m, &v).unwrap();
        let (norm_sq, gw, gm, gv) = (run.norm_sq, run.w, run.m, run.v);
        let rnorm = reference::grad_norm_sq(&g);
        assert_eq!(norm_sq.to_bits(), rnorm.to_bits(), "squares and a fixed tree: exact");
        let exact: f64 = g.iter().map(|&x| (x as f64).powi(2)).sum();
        assert!((norm_sq as f64 - exact).abs() < 1e-5 * exact);
        let (mut rw, mut rm, mut rv) = (w.clone(), m.clone(), v.clone());
        reference::adamw(&p, step[0], step[1], step[2], rnorm, decay_len, &mut rw, &g, &mut rm, &mut rv);
        if max_norm == 0.0 {
            assert_eq!((&gm, &gv), (&rm, &rv), "no clipping: the moments are multiplies and adds: exact");
        } else {
            assert!(norm_sq.sqrt() > 1.0, "the gradient is clipped");
            close(&gm, &rm, 1e-6, 0.0, "m, clipped");
            close(&gv, &rv, 1e-5, 0.0, "v, clipped");
        }
        close(&gw, &rw, 1e-6, 1e-7, &format!("w (max_norm {max_norm})"));
    }
}

#[test]
fn a_whole_training_step_matches_the_reference_and_repeats_bit_for_bit() {
    let Some(gpu) = gpu() else { return };
    // t = 37 with ctx = 40: positions past t get no gradient; d = 24 in 3 heads of 8; 2 blocks.
    let spec = GptSpec::parse("gpt:layers=2,d=24,heads=3,ctx=40,vocab=41").unwrap();
    let w = GptWeights::init(&spec, 7);
    let (b, t) = (3, 37);
    let toks = tokens(b * t, 41, 24);
    let targets = tokens(b * t, 41, 25);
    let p = AdamWParams { b1: 0.9, b2: 0.99, eps: 1e-8, weight_decay: 0.1, max_norm: 1.0 };
    let step = [1e-3, 10.0, 100.0];
    let (loss, grads, after) = gpu.run_lm_step(&w, t, &toks, &targets, &p, step).unwrap();

    let fwd = reference::forward(&w, b, t, &toks, &targets);
    close(&loss, &fwd.row_loss, 1e-5, 1e-6, "per-position loss");
    let rgrads = reference::backward(&w, &fwd, &toks);
    for (name, _, r) in w.layout.tensors(&spec) {
        let scale = rgrads[r.clone()].iter().fold(0.0f32, |a, g| a.max(g.abs()));
        close(&grads[r.clone()], &rgrads[r.clone()], 1e-3, 1e-3 * scale, &name);
    }
    let padding = grads.iter().zip(&rgrads).filter(|(g, r)| **r == 0.0 && **g != 0.0).count();
    assert_eq!(padding, 0, "no gradient where the reference has none (padding, positions past t)");

    // The optimizer's wiring (norm, decay prefix, step values): AdamW on the device's own gradient.
    let (mut rw, mut m, mut v) = (w.params.clone(), vec![0.0; w.params.len()], vec![0.0; w.params.len()]);
    let norm_sq = reference::grad_norm_sq(&grads);
    reference::adamw(&p, step[0], step[1], step[2], norm_sq, w.layout.decay_len, &mut rw, &grads, &mut m, &mut v);
    close(&after.params, &rw, 1e-6, 1e-7, "weights after the step");

    let (loss2, grads2, after2) = gpu.run_lm_step(&w, t, &toks, &targets, &p, step).unwrap();
    assert!(loss == loss2 && grads == grads2 && after == after2, "the same step twice gives the same bits");
}

/// Row r's loss and gradient (softmax - onehot) in f64 from the logits as stored.
fn xent_f64(row: &[f32], target: usize) -> (f64, Vec<f64>) {
    let m = row.iter().fold(f32::MIN, |a, &v| a.max(v)) as f64;
    let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
    let grad = row.iter().enumerate().map(|(j, &v)| (v as f64 - m).exp() / s - (j == target) as u8 as f64).collect();
    (s.ln() - (row[target] as f64 - m), grad)
}

#[test]
fn vocabulary_cross_entropy_matches_the_reference_and_finite_differences_and_repeats() {
    let Some(gpu) = gpu() else { return };
    // 257: one past the 256 invocations of a row's workgroup; 50,257: GPT-2's vocabulary, ~196
    // logits per invocation. 45 and 3 rows: no multiple of anything.
    for (rows, vocab, seed) in [(45, 257, 30), (3, 50_257, 31)] {
        let logits = values(rows * vocab, seed, 8.0);
        let targets = tokens(rows, vocab, seed + 1);
        let (loss, grad) = gpu.run_vocab_xent(vocab, &logits, &targets).unwrap();
        let (mut rgrad, mut rloss, mut correct) = (vec![0.0; logits.len()], vec![0.0; rows], vec![0; rows]);
        base::softmax_xent(vocab, &logits, &targets, &mut rgrad, &mut rloss, &mut correct);
        // The tree adds the row's exponentials in another order than the reference's loop, whose
        // one running f32 sum over 50,257 terms drifts by ~5e-5 relative (measured): the f64
        // check below holds the kernel to 1e-5.
        close(&loss, &rloss, 1e-5, 1e-6, &format!("loss, vocab {vocab}"));
        let scale = 1.0 / (rows * vocab) as f32;
        close(&grad, &rgrad, 2e-4, 1e-5 * scale, &format!("gradient, vocab {vocab}"));
        for r in 0..rows {
            let row = &logits[r * vocab..(r + 1) * vocab];
            let (want, wgrad) = xent_f64(row, targets[r] as usize);
            assert!((loss[r] as f64 - want).abs() <= 2e-6 * want.max(1.0), "row {r}: {} vs f64 {want}", loss[r]);
            let got = &grad[r * vocab..(r + 1) * vocab];
            for (j, (&g, &w)) in got.iter().zip(&wgrad).enumerate() {
                let w = w / rows as f64;
                assert!((g as f64 - w).abs() <= 1e-5 * w.abs() + 1e-9, "grad[{r}, {j}] {g} vs f64 {w}");
            }
        }

        // Central differences of the kernel's own loss, each perturbed row a row of one dispatch:
        // the target's logit, the row's largest and one other, in row 0.
        let h = 1e-2f32;
        let row0 = &logits[..vocab];
        let top = (0..vocab).fold(0, |a, j| if row0[j] > row0[a] { j } else { a });
        let picks = [targets[0] as usize, top, vocab / 3];
        let mut shifted = Vec::new();
        for &j in &picks {
            for sign in [1.0, -1.0] {
                let mut row = row0.to_vec();
                row[j] += sign * h;
                shifted.extend(row);
            }
        }
        let (fd_loss, _) = gpu.run_vocab_xent(vocab, &shifted, &vec![targets[0]; 2 * picks.len()]).unwrap();
        for (i, &j) in picks.iter().enumerate() {
            let fd = (fd_loss[2 * i] as f64 - fd_loss[2 * i + 1] as f64) / (2.0 * h as f64);
            let analytic = grad[j] as f64 * rows as f64;
            assert!(
                (fd - analytic).abs() < 2e-3,
                "d loss / d z[{j}], vocab {vocab}: {fd} by differences vs {analytic}"
            );
        }

        let again = gpu.run_vocab_xent(vocab, &logits, &targets).unwrap();
        assert!(again == (loss, grad), "fixed-order sums: the same bits every run");
    }
}

/// A device whose data chunks are capped at `bytes`, forcing the head, the token table and the
/// attention probabilities into chunks.
fn gpu_capped(bytes: u64, matmul: Option<MatmulVariant>) -> Option<arena_compute::Gpu> {
    common::gpu_with(arena_compute::GpuOptions { max_chunk_bytes: Some(bytes), matmul, ..Default::default() })
}

#[test]
fn chunked_logits_table_attention_and_parameters_give_bit_identical_steps() {
    let (Some(whole), Some(chunked)) = (gpu(), gpu_capped(12_000, None)) else { return };
    let (b, t) = (3, 37);
    // Training, vocabulary 41: 111 rows of logits (18 KB) in chunks of 64 rows; P (5.5 KB per
    // sequence and head) in chunks of 2 of the 9 pairs; the 64 KB parameter vector's norm and
    // AdamW in ranges of 11 x 256 elements.
    let spec = GptSpec::parse("gpt:layers=2,d=24,heads=3,ctx=40,vocab=41").unwrap();
    let w = GptWeights::init(&spec, 8);
    let (toks, targets) = (tokens(b * t, 41, 40), tokens(b * t, 41, 41));
    let p = AdamWParams { b1: 0.9, b2: 0.99, eps: 1e-8, weight_decay: 0.1, max_norm: 1.0 };
    let step = [1e-3, 10.0, 100.0];
    let run = |gpu: &arena_compute::Gpu, w: &GptWeights, toks: &[u32], targets: &[u32]| {
        gpu.run_lm_step(w, t, toks, targets, &p, step).unwrap()
    };
    let (loss, grads, after) = run(&whole, &w, &toks, &targets);
    let (closs, cgrads, cafter) = run(&chunked, &w, &toks, &targets);
    assert!(loss == closs, "the same losses, bit for bit");
    // The table's gradient sums over the row chunks in place: the same order as one chunk.
    assert!(grads == cgrads, "the same gradients, bit for bit");
    assert!(after.params == cafter.params, "the same weights after the step, bit for bit");
    // An adapter over the frozen base: the masked loss's row scales on each chunk.
    let adapter = LoraAdapter::init(&spec, &LoraConfig::parse("r=2,alpha=4,targets=all").unwrap(), "", 3);
    let mask: Vec<u8> = (0..b * t).map(|i| (i % 3 != 0) as u8).collect();
    let lora = |gpu: &arena_compute::Gpu| gpu.run_lora_step(&w, &adapter, t, &toks, &targets, &mask, &p, step).unwrap();
    assert!(lora(&whole) == lora(&chunked), "adapter step: the same losses, gradient and adapter");

    // Vocabulary 1,000: the 96 KB token table in blocks of 64 tokens for the embedding, the head,
    // dh (summed over the blocks in place) and the table's gradient, against the unchunked run
    // and the reference.
    let spec = GptSpec::parse("gpt:layers=2,d=24,heads=3,ctx=40,vocab=1000").unwrap();
    let w = GptWeights::init(&spec, 9);
    let (toks, targets) = (tokens(b * t, 1000, 42), tokens(b * t, 1000, 43));
    let loss = whole.run_lm_losses(&w, t, &toks, &targets).unwrap();
    assert!(loss == chunked.run_lm_losses(&w, t, &toks, &targets).unwrap(), "blocks: the same losses");
    assert!(run(&whole, &w, &toks, &targets) == run(&chunked, &w, &toks, &targets), "blocks: the same step");
    // The blocks' logits are columns written with a row stride by either matmul kernel, and either
    // continues a split sum in place.
    let Some(tiled) = gpu_capped(12_000, Some(MatmulVariant::Tiled)) else { return };
    assert!(loss == tiled.run_lm_losses(&w, t, &toks, &targets).unwrap(), "the tiled matmul: the same losses");
    let (_, tgrads, _) = run(&tiled, &w, &toks, &targets);
    let (_, wgrads, _) = run(&whole, &w, &toks, &targets);
    close(&tgrads, &wgrads, 1e-5, 1e-6, "tiled in blocks vs register-blocked whole: gradients");
    close(&loss, &reference::forward(&w, b, t, &toks, &targets).row_loss, 1e-5, 1e-6, "loss vs reference");
}
