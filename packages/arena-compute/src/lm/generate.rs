//! Sampling text from a model, one token at a time, with the CPU reference's forward pass: a
//! single growing sequence is latency-bound work (one position of new output per pass) that the
//! batch-oriented device kernels would only slow down with a submission and a read-back per
//! token, and the reference is the same math.

use crate::rng::SplitMix64;
use crate::{Error, Result};

use super::reference;
use super::tokens::{TextStream, Tokenizer};
use super::weights::GptWeights;

/// How to sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleConfig {
    /// Tokens to generate after the prompt.
    pub tokens: usize,
    /// Softmax temperature; 0 takes the most likely token every time.
    pub temperature: f32,
    pub seed: u64,
}

/// Continues `prompt` by `cfg.tokens` tokens, each predicted from the last `ctx` tokens; calls
/// `on_token` with each new token as it comes. The same weights, prompt and config give the same
/// text.
pub fn generate(w: &GptWeights, prompt: &[u32], cfg: &SampleConfig, on_token: &mut dyn FnMut(u32)) -> Result<Vec<u32>> {
    let vocab = w.spec.vocab;
    if prompt.is_empty() {
        return Err(Error::Config("generation needs a prompt of at least one token".into()));
    }
    if let Some(position) = prompt.iter().position(|&t| t as usize >= vocab) {
        return Err(Error::TokenOutOfRange { what: "the prompt".into(), position, token: prompt[position], vocab });
    }
    if !(cfg.temperature >= 0.0 && cfg.temperature.is_finite()) {
        return Err(Error::Config(format!("temperature must be >= 0, got {}", cfg.temperature)));
    }
    let mut rng = SplitMix64::new(cfg.seed);
    let mut out = prompt.to_vec();
    for _ in 0..cfg.tokens {
        let window = &out[out.len().saturating_sub(w.spec.ctx)..];
        let t = window.len();
        let fwd = reference::forward(w, 1, t, window, &vec![0; t]);
        let next = sample(&fwd.logits[(t - 1) * vocab..t * vocab], cfg.temperature, &mut rng);
        on_token(next);
        out.push(next);
    }
    Ok(out)
}

/// [`generate`] on text: `prompt` encoded by `tokenizer`, each new token decoded through it and
/// passed to `on_text` as soon as its text is whole (the byte tokenizer passes raw bytes, one at
/// a time, as they come; the caller decides how to show bytes that are not UTF-8). Returns the
/// generated text (after the prompt).
pub fn generate_text(
    w: &GptWeights,
    tokenizer: &Tokenizer,
    prompt: &str,
    cfg: &SampleConfig,
    on_text: &mut dyn FnMut(&[u8]),
) -> Result<Vec<u8>> {
    let prompt = tokenizer.encode(prompt.as_bytes(), "the prompt")?.ids;
    let mut stream = TextStream::new(tokenizer);
    let (mut text, mut failed) = (Vec::new(), None);
    generate(w, &prompt, cfg, &mut |token| match stream.push(token) {
        Ok(piece) => {
            on_text(&piece);
            text.extend(piece);
        }
        Err(e) => {
            failed.get_or_insert(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let rest = stream.finish()?;
    on_text(&rest);
    text.extend(rest);
    Ok(text)
}

/// A token from the logits: argmax at temperature 0, else a draw from softmax(logits / T)
/// computed in f64.
fn sample(logits: &[f32], temperature: f32, rng: &mut SplitMix64) -> u32 {
    let argmax = logits.iter().enumerate().fold(0, |best, (i, &z)| if z > logits[best] { i } else { best });
    if temperature == 0.0 {
        return argmax as u32;
    }
    let max = logits[argmax] as f64;
    let weights: Vec<f64> = logits.iter().map(|&z| ((z as f64 - max) / temperature as f64).exp()).collect();
    let mut u = rng.unit_f32() as f64 * weights.iter().sum::<f64>();
    for (i, p) in weights.iter().enumerate() {
        if u < *p {
            return i as u32;
        }
        u -= p;
    }
    argmax as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lm::GptSpec;

    #[test]
    fn generation_is_seeded_stays_in_the_vocabulary_and_slides_past_ctx() {
        let w = GptWeights::init(&GptSpec::parse("gpt:layers=1,d=8,heads=2,ctx=6,vocab=13").unwrap(), 2);
        let cfg = SampleConfig { tokens: 10, temperature: 1.0, seed: 3 };
        let mut streamed = Vec::new();
        let a = generate(&w, &[1, 2, 3], &cfg, &mut |t| streamed.push(t)).unwrap();
        assert_eq!(a.len(), 13);
        assert_eq!(&a[..3], &[1, 2, 3]);
        assert_eq!(&a[3..], streamed.as_slice());
        assert!(a.iter().all(|&t| t < 13));
        assert_eq!(a, generate(&w, &[1, 2, 3], &cfg, &mut |_| {}).unwrap());
        // Temperature 0 is the argmax of the reference's logits.
        let greedy = generate(&w, &[4], &SampleConfig { temperature: 0.0, tokens: 1, ..cfg }, &mut |_| {}).unwrap();
        let fwd = reference::forward(&w, 1, 1, &[4], &[0]);
        let best = (0..13).max_by(|&i, &j| fwd.logits[i].total_cmp(&fwd.logits[j])).unwrap();
        assert_eq!(greedy[1], best as u32);
        assert!(generate(&w, &[], &cfg, &mut |_| {}).is_err());
        assert!(matches!(generate(&w, &[13], &cfg, &mut |_| {}), Err(Error::TokenOutOfRange { .. })));
    }

    #[test]
    fn sampling_follows_the_softmax() {
        let mut rng = SplitMix64::new(1);
        let logits = [0.0, (3.0f32).ln(), f32::NEG_INFINITY];
        let draws: Vec<u32> = (0..4000).map(|_| sample(&logits, 1.0, &mut rng)).collect();
        let ones = draws.iter().filter(|&&t| t == 1).count() as f64 / 4000.0;
        assert!((ones - 0.75).abs() < 0.03, "{ones}");
        assert!(!draws.contains(&2));
    }
}
