//! One-shot runs of single kernels from host slices: upload, dispatch, read back. The kernel
//! tests compare these with [`crate::reference`]; the benchmark times [`Gpu::time_matmul`].

use std::time::{Duration, Instant};

use super::{Kernel, MatmulShape, MatmulVariant, Op, OptimizerParams, Slice};
use crate::device::Gpu;
use crate::model::Activation;
use crate::Result;

fn buf(gpu: &Gpu, data: &[f32]) -> wgpu::Buffer {
    gpu.storage_init("test input", bytemuck::cast_slice(data))
}

fn whole(buffer: &wgpu::Buffer, len: usize) -> Slice<'_> {
    Slice::new(buffer, 0, len)
}

impl Gpu {
    fn run_ops(&self, ops: &[Op]) {
        let mut encoder = self.encoder();
        super::record(&mut encoder, &ops.iter().collect::<Vec<_>>());
        self.submit(encoder);
    }

    /// C = A * B with the given kernel variant.
    pub fn run_matmul(&self, variant: MatmulVariant, s: &MatmulShape, a: &[f32], b: &[f32]) -> Result<Vec<f32>> {
        let (ab, bb, cb) = (buf(self, a), buf(self, b), self.storage_zeroed("c", (s.m * s.n * 4) as u64));
        self.run_ops(&[super::matmul(
            self,
            variant,
            *s,
            whole(&ab, a.len()),
            whole(&bb, b.len()),
            whole(&cb, s.m * s.n),
        )]);
        self.read(&cb, 0, s.m * s.n)
    }

    /// Seconds per C = A * B of m x k by k x n (random operands resident on the device), the
    /// median of `reps` timed submissions after one warm-up.
    pub fn time_matmul(&self, variant: MatmulVariant, m: usize, k: usize, n: usize, reps: usize) -> Result<Duration> {
        let s = MatmulShape::nn(m, k, n);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.25).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
        let (ab, bb, cb) = (buf(self, &a), buf(self, &b), self.storage_zeroed("c", (m * n * 4) as u64));
        let op = super::matmul(self, variant, s, whole(&ab, a.len()), whole(&bb, b.len()), whole(&cb, m * n));
        let mut times = Vec::new();
        for _ in 0..reps + 1 {
            let t = Instant::now();
            self.run_ops(std::slice::from_ref(&op));
            self.read::<f32>(&cb, 0, 1)?;
            times.push(t.elapsed());
        }
        times.remove(0);
        times.sort();
        Ok(times[times.len() / 2])
    }

    /// z + bias and activation(z + bias) for rows x cols; `None` is the identity.
    pub fn run_bias_act(
        &self,
        rows: usize,
        cols: usize,
        act: Option<Activation>,
        bias: &[f32],
        z: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        let (bb, zb, ob) = (buf(self, bias), buf(self, z), self.storage_zeroed("out", (z.len() * 4) as u64));
        self.run_ops(&[super::bias_act(
            self,
            rows,
            cols,
            act,
            whole(&bb, bias.len()),
            whole(&zb, z.len()),
            whole(&ob, z.len()),
        )]);
        Ok((self.read(&zb, 0, z.len())?, self.read(&ob, 0, z.len())?))
    }

    /// grad * activation'(z); `out` is activation(z).
    pub fn run_act_backward(
        &self,
        rows: usize,
        cols: usize,
        act: Option<Activation>,
        z: &[f32],
        out: &[f32],
        grad: &[f32],
    ) -> Result<Vec<f32>> {
        let (zb, ob, gb) = (buf(self, z), buf(self, out), buf(self, grad));
        let n = grad.len();
        self.run_ops(&[super::act_backward(self, rows, cols, act, whole(&zb, n), whole(&ob, n), whole(&gb, n))]);
        self.read(&gb, 0, n)
    }

    /// Column sums of rows x cols.
    pub fn run_bias_grad(&self, rows: usize, cols: usize, grad: &[f32]) -> Result<Vec<f32>> {
        let (gb, ob) = (buf(self, grad), self.storage_zeroed("out", (cols * 4) as u64));
        self.run_ops(&[super::bias_grad(self, rows, cols, whole(&gb, grad.len()), whole(&ob, cols))]);
        self.read(&ob, 0, cols)
    }

    /// Softmax cross-entropy: (gradient of the mean loss, per-row loss, per-row correct).
    pub fn run_softmax_xent(
        &self,
        classes: usize,
        logits: &[f32],
        labels: &[u32],
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<u32>)> {
        let rows = labels.len();
        let lb = buf(self, logits);
        let yb = self.storage_init("labels", bytemuck::cast_slice(labels));
        let gb = self.storage_zeroed("grad", (logits.len() * 4) as u64);
        let (lossb, cb) =
            (self.storage_zeroed("loss", (rows * 4) as u64), self.storage_zeroed("correct", (rows * 4) as u64));
        let state = self.storage_zeroed("state", 16);
        self.run_ops(&[super::softmax_xent(
            self,
            rows,
            classes,
            rows,
            whole(&lb, logits.len()),
            whole(&yb, rows),
            whole(&gb, logits.len()),
            whole(&lossb, rows),
            whole(&cb, rows),
            whole(&state, 4),
        )]);
        Ok((self.read(&gb, 0, logits.len())?, self.read(&lossb, 0, rows)?, self.read(&cb, 0, rows)?))
    }

    /// One optimizer step; `adam` holds the step's (c1, c2) bias corrections, `None` runs SGD.
    /// Returns (w, first moment or velocity, second moment).
    pub fn run_optimizer(
        &self,
        p: &OptimizerParams,
        adam: Option<[f32; 2]>,
        w: &[f32],
        grad: &[f32],
        m: &[f32],
        v: &[f32],
    ) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let n = w.len();
        let (wb, gb, mb, vb) = (buf(self, w), buf(self, grad), buf(self, m), buf(self, v));
        let op = match adam {
            Some(c) => {
                let table = buf(self, &c);
                let state = self.storage_zeroed("state", 16);
                super::adam(
                    self,
                    p,
                    whole(&wb, n),
                    whole(&gb, n),
                    whole(&mb, n),
                    whole(&vb, n),
                    whole(&table, 2),
                    whole(&state, 4),
                )
            }
            None => super::sgd(self, p, whole(&wb, n), whole(&gb, n), whole(&mb, n)),
        };
        self.run_ops(&[op]);
        Ok((self.read(&wb, 0, n)?, self.read(&mb, 0, n)?, self.read(&vb, 0, n)?))
    }

    /// The fixed-tree sum of `values` (all levels, as evaluation runs it).
    pub fn run_sum(&self, values: &[f32]) -> Result<f32> {
        let mut current = buf(self, values);
        let mut len = values.len();
        loop {
            let out_len = len.div_ceil(super::LINEAR_WORKGROUP as usize);
            let out = self.storage_zeroed("partials", (out_len * 4) as u64);
            self.run_ops(&[super::sum_f32(self, whole(&current, len), whole(&out, out_len))]);
            (current, len) = (out, out_len);
            if len == 1 {
                return Ok(self.read(&current, 0, 1)?[0]);
            }
        }
    }

    /// Compiles every pipeline now (else each compiles on first use).
    pub fn warm_up(&self) {
        for k in [
            Kernel::MatmulBlocked,
            Kernel::MatmulTiled,
            Kernel::BiasAct,
            Kernel::ActBackward,
            Kernel::BiasGrad,
            Kernel::SoftmaxXent,
            Kernel::Sgd,
            Kernel::Adam,
            Kernel::SumF32,
            Kernel::SumU32,
            Kernel::Gather,
            Kernel::Advance,
        ] {
            self.pipeline(k);
        }
    }
}
