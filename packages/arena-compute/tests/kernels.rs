//! Every kernel against the CPU reference, on lavapipe in CI.
//!
//! Tolerances, and why:
//! - matmul: |gpu - ref| <= 2 k u sum_k |a_ik b_kj| (u = 2^-24), the classical bound on a k-term dot
//!   product's rounding error for any summation order or FMA use; so it holds on real GPUs too. On
//!   lavapipe (no FMA contraction, same k order) the result is in fact bit-identical, which
//!   `blocked_and_tiled_matmul_agree_bit_for_bit_on_this_device` checks where the device is a CPU.
//! - bias, ReLU, bias gradient, SGD: single correctly rounded operations in the same order: exact.
//! - tanh, GELU, exp/log in softmax, sqrt and division in Adam: the device's transcendental
//!   functions differ from Rust's libm by a few ulp (Vulkan allows far more). We allow 1e-5
//!   relative plus 1e-6 absolute: ~80 ulp at 1.0, far below any effect on training, far above
//!   lavapipe's observed difference.
//! - finite differences (backward kernels): central differences in f32 with step h have
//!   truncation error O(h^2) and rounding error ~ u |f| / h; with h = 1e-2..1e-3 both are below
//!   2e-3, so we allow 5e-3 relative plus 5e-4 absolute.

mod common;

use arena_compute::kernels::{MatmulShape, MatmulVariant, OptimizerParams};
use arena_compute::{reference, Activation, GpuOptions};
use common::{close, gpu, gpu_with, values};

const U: f32 = 1.0 / (1u32 << 24) as f32;

fn matmul_within_bound(s: &MatmulShape, a: &[f32], b: &[f32], got: &[f32]) {
    let mut want = vec![0.0; s.m * s.n];
    reference::matmul(s, a, b, &mut want);
    for i in 0..s.m {
        for j in 0..s.n {
            let mag: f32 = (0..s.k)
                .map(|k| {
                    (a[i * s.a_row_stride + k * s.a_col_stride] * b[k * s.b_row_stride + j * s.b_col_stride]).abs()
                })
                .sum();
            let bound = 2.0 * s.k as f32 * U * mag;
            let (g, w) = (got[i * s.n + j], want[i * s.n + j]);
            assert!((g - w).abs() <= bound, "{s:?} C[{i},{j}]: gpu {g} vs reference {w}, bound {bound}");
        }
    }
}

#[test]
fn matmul_matches_reference_on_odd_shapes_in_every_layout() {
    let Some(gpu) = gpu() else { return };
    // 37 x 91 x 53 crosses the 64 x 64 tile in no dimension evenly; 130 x 7 x 65 crosses tiles
    // with a short k; 1 x 1 x 1 is the smallest.
    for (m, k, n) in [(37, 91, 53), (130, 7, 65), (1, 1, 1), (64, 64, 64), (3, 200, 129)] {
        for shape in [MatmulShape::nn(m, k, n), MatmulShape::tn(m, k, n), MatmulShape::nt(m, k, n)] {
            let a = values(shape.a_len(), 1, 1.0);
            let b = values(shape.b_len(), 2, 1.0);
            for variant in [MatmulVariant::RegisterBlocked, MatmulVariant::Tiled] {
                let got = gpu.run_matmul(variant, &shape, &a, &b).unwrap();
                matmul_within_bound(&shape, &a, &b, &got);
            }
        }
    }
}

#[test]
fn blocked_and_tiled_matmul_agree_bit_for_bit_on_this_device() {
    let Some(gpu) = gpu() else { return };
    let s = MatmulShape::nn(37, 91, 53);
    let (a, b) = (values(s.a_len(), 3, 1.0), values(s.b_len(), 4, 1.0));
    let blocked = gpu.run_matmul(MatmulVariant::RegisterBlocked, &s, &a, &b).unwrap();
    let tiled = gpu.run_matmul(MatmulVariant::Tiled, &s, &a, &b).unwrap();
    assert_eq!(blocked, tiled, "both kernels sum over k in the same order");
    let mut want = vec![0.0; s.m * s.n];
    reference::matmul(&s, &a, &b, &mut want);
    if gpu.adapter().device_type == "Cpu" {
        // lavapipe does not contract to FMA: the reference's order gives the same bits.
        assert_eq!(blocked, want);
    } else {
        // A real GPU may fuse multiply-adds: the same sums, rounded differently.
        for (got, want) in blocked.iter().zip(&want) {
            assert!((got - want).abs() <= 1e-5 * (1.0 + want.abs()), "{got} vs {want}");
        }
    }
}

#[test]
fn matmul_input_gradient_matches_finite_differences_of_the_forward_kernel() {
    // For L = sum(G .* (A B)), dL/dA = G B^T: the nt kernel's output must match (L(A + h e) -
    // L(A - h e)) / 2h computed from the forward (nn) kernel.
    let Some(gpu) = gpu() else { return };
    let (m, k, n) = (5, 7, 6);
    let a = values(m * k, 5, 1.0);
    let b = values(k * n, 6, 1.0);
    let g = values(m * n, 7, 1.0);
    let grad = gpu.run_matmul(MatmulVariant::RegisterBlocked, &MatmulShape::nt(m, n, k), &g, &b).unwrap();
    let loss = |a: &[f32]| -> f64 {
        let c = gpu.run_matmul(MatmulVariant::RegisterBlocked, &MatmulShape::nn(m, k, n), a, &b).unwrap();
        c.iter().zip(&g).map(|(c, g)| (*c as f64) * (*g as f64)).sum()
    };
    let h = 1e-2f32;
    for i in [0, 3, 17, m * k - 1] {
        let (mut up, mut down) = (a.clone(), a.clone());
        up[i] += h;
        down[i] -= h;
        let fd = ((loss(&up) - loss(&down)) / (2.0 * h as f64)) as f32;
        close(&[grad[i]], &[fd], 5e-3, 5e-4, "dL/dA");
    }
}

#[test]
fn bias_act_matches_reference_for_every_activation() {
    let Some(gpu) = gpu() else { return };
    let (rows, cols) = (37, 91);
    let z = values(rows * cols, 8, 4.0);
    let bias = values(cols, 9, 1.0);
    for act in [None, Some(Activation::Relu), Some(Activation::Tanh), Some(Activation::Gelu)] {
        let (gz, gout) = gpu.run_bias_act(rows, cols, act, &bias, &z).unwrap();
        let (mut rz, mut rout) = (z.clone(), vec![0.0; z.len()]);
        reference::bias_act(cols, act, &bias, &mut rz, &mut rout);
        assert_eq!(gz, rz, "z + bias is one rounding: exact");
        match act {
            None | Some(Activation::Relu) => assert_eq!(gout, rout, "{act:?}: exact"),
            _ => close(&gout, &rout, 1e-5, 1e-6, &format!("{act:?}")),
        }
    }
}

#[test]
fn act_backward_matches_reference_and_finite_differences() {
    let Some(gpu) = gpu() else { return };
    let (rows, cols) = (9, 13);
    // Keep ReLU's points away from the kink at 0, where the derivative is undefined.
    let z: Vec<f32> =
        values(rows * cols, 10, 3.0).into_iter().map(|v| if v.abs() < 0.05 { v + 0.1 } else { v }).collect();
    let g = values(rows * cols, 11, 1.0);
    let zero = vec![0.0; cols];
    for act in [Activation::Relu, Activation::Tanh, Activation::Gelu] {
        let (_, out) = gpu.run_bias_act(rows, cols, Some(act), &zero, &z).unwrap();
        let got = gpu.run_act_backward(rows, cols, Some(act), &z, &out, &g).unwrap();
        let mut want = g.clone();
        reference::act_backward(Some(act), &z, &out, &mut want);
        close(&got, &want, 1e-5, 1e-6, &format!("{act:?} backward vs reference"));
        let h = 1e-2f32;
        let shifted = |d: f32| {
            gpu.run_bias_act(rows, cols, Some(act), &zero, &z.iter().map(|v| v + d).collect::<Vec<_>>()).unwrap().1
        };
        let (up, down) = (shifted(h), shifted(-h));
        let fd: Vec<f32> =
            (0..z.len()).map(|i| g[i] * ((up[i] as f64 - down[i] as f64) / (2.0 * h as f64)) as f32).collect();
        close(&got, &fd, 5e-3, 5e-4, &format!("{act:?} backward vs finite differences"));
    }
}

#[test]
fn bias_grad_is_the_exact_column_sum() {
    let Some(gpu) = gpu() else { return };
    let (rows, cols) = (91, 53);
    let grad = values(rows * cols, 12, 1.0);
    let got = gpu.run_bias_grad(rows, cols, &grad).unwrap();
    let mut want = vec![0.0; cols];
    reference::bias_grad(rows, cols, &grad, &mut want);
    assert_eq!(got, want, "same order (rows 0, 1, ...), one rounding per add");
}

#[test]
fn softmax_xent_matches_reference_and_its_gradient_matches_finite_differences() {
    let Some(gpu) = gpu() else { return };
    let (rows, classes) = (37, 10);
    // Large logits: a naive exp would overflow; the stable form must not.
    let mut logits = values(rows * classes, 13, 5.0);
    logits[0] = 95.0;
    logits[11] = -90.0;
    let labels: Vec<u32> = (0..rows as u32).map(|r| (r * 7) % classes as u32).collect();
    let (grad, loss, correct) = gpu.run_softmax_xent(classes, &logits, &labels).unwrap();
    let (mut rgrad, mut rloss, mut rcorrect) = (vec![0.0; logits.len()], vec![0.0; rows], vec![0; rows]);
    reference::softmax_xent(classes, &logits, &labels, &mut rgrad, &mut rloss, &mut rcorrect);
    assert!(loss.iter().all(|l| l.is_finite() && *l >= 0.0));
    close(&grad, &rgrad, 1e-5, 1e-7, "softmax gradient");
    close(&loss, &rloss, 1e-5, 1e-6, "row loss");
    assert_eq!(correct, rcorrect, "argmax is exact");
    // d(mean loss)/dz by central differences of the kernel's own loss.
    let h = 1e-2f32;
    for i in [1, 5, 12, 200, rows * classes - 1] {
        let mean = |d: f32| {
            let mut l = logits.clone();
            l[i] += d;
            let (_, loss, _) = gpu.run_softmax_xent(classes, &l, &labels).unwrap();
            loss.iter().map(|&v| v as f64).sum::<f64>() / rows as f64
        };
        let fd = ((mean(h) - mean(-h)) / (2.0 * h as f64)) as f32;
        close(&[grad[i]], &[fd], 5e-3, 5e-4, &format!("d loss / d z[{i}]"));
    }
}

#[test]
fn sgd_step_is_exact_and_adam_step_matches_reference() {
    let Some(gpu) = gpu() else { return };
    let n = 1000;
    let (w, g, m, v) = (
        values(n, 14, 1.0),
        values(n, 15, 0.1),
        values(n, 16, 0.01),
        values(n, 17, 0.01).iter().map(|x| x.abs()).collect::<Vec<_>>(),
    );
    let sgd = OptimizerParams {
        lr: 0.05,
        momentum_or_b1: 0.9,
        one_minus_b1: 0.0,
        b2: 0.0,
        one_minus_b2: 0.0,
        eps: 0.0,
        weight_decay: 1e-4,
    };
    let (gw, gm, _) = gpu.run_optimizer(&sgd, None, &w, &g, &m, &v).unwrap();
    let (mut rw, mut rm) = (w.clone(), m.clone());
    reference::sgd(&sgd, &mut rw, &g, &mut rm);
    assert_eq!((gw, gm), (rw, rm), "multiply and add only: exact");

    let adam = OptimizerParams {
        lr: 1e-3,
        momentum_or_b1: 0.9,
        one_minus_b1: 0.1,
        b2: 0.999,
        one_minus_b2: 1.0 - 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    let c = [1.0 / (1.0 - 0.9f32.powi(3)), 1.0 / (1.0 - 0.999f32.powi(3))];
    let (gw, gm, gv) = gpu.run_optimizer(&adam, Some(c), &w, &g, &m, &v).unwrap();
    let (mut rw, mut rm, mut rv) = (w.clone(), m.clone(), v.clone());
    reference::adam(&adam, c[0], c[1], &mut rw, &g, &mut rm, &mut rv);
    assert_eq!((gm, gv), (rm, rv), "moments: multiply and add only: exact");
    close(&gw, &rw, 1e-6, 1e-7, "weights after Adam (sqrt and division)");
}

#[test]
fn tree_sum_matches_the_reference_tree_bit_for_bit() {
    let Some(gpu) = gpu() else { return };
    for n in [1, 255, 256, 257, 70_001] {
        let v = values(n, 18, 3.0);
        let got = gpu.run_sum(&v).unwrap();
        assert_eq!(got.to_bits(), reference::tree_sum(&v).to_bits(), "n = {n}");
        let exact: f64 = v.iter().map(|&x| x as f64).sum();
        assert!((got as f64 - exact).abs() < 1e-3, "n = {n}: {got} vs {exact}");
    }
}

#[test]
fn the_forced_tiled_variant_is_what_a_device_runs_when_asked() {
    let Some(gpu) = gpu_with(GpuOptions { matmul: Some(MatmulVariant::Tiled), ..Default::default() }) else { return };
    assert_eq!(gpu.matmul_variant(), MatmulVariant::Tiled);
}
