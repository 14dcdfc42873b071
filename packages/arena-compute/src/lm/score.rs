//! The language-model score: bits per byte of held-out text, and the on-chain score derived from
//! it: the one implementation of the mapping a language-model task's metric names
//! (`arena_types::market::msg::Metric::bits_per_byte`, which documents it). It stays here rather
//! than in arena-types, where the chain's other rules live: arena-types depends on cosmwasm-std,
//! which this crate must not pull in, and the market never computes it (floating point has no
//! place in a contract; the market ranks the integers validators reveal).

/// Bits per byte: the mean loss (nats per token) over `tokens` predicted tokens, converted to
/// bits and spread over the `bytes` of UTF-8 text those tokens encode. With the byte-level
/// tokenizer tokens = bytes, and this is the loss / ln 2; a tokenizer with longer tokens predicts
/// fewer tokens for the same text, and the division by bytes keeps the two comparable.
pub fn bits_per_byte(mean_loss_nats: f64, tokens: u64, bytes: u64) -> f64 {
    if bytes == 0 {
        return f64::NAN;
    }
    mean_loss_nats * tokens as f64 / std::f64::consts::LN_2 / bytes as f64
}

/// score_ppm = round(1e6 * 2^(-bits_per_byte)): the geometric-mean probability the model gives
/// each byte, in parts per million; higher is better, as every arena score. 0 for a NaN or
/// negative input (a broken evaluation scores nothing).
pub fn score_ppm(bits_per_byte: f64) -> u32 {
    if bits_per_byte.is_nan() || bits_per_byte < 0.0 {
        return 0;
    }
    (1e6 * (-bits_per_byte).exp2()).round().clamp(0.0, 1e6) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_byte_and_score_follow_the_formula() {
        // A uniform byte model: ln 256 nats a byte is exactly 8 bits, 2^-8 = 3906.25 ppm.
        let uniform = bits_per_byte(256f64.ln(), 1000, 1000);
        assert!((uniform - 8.0).abs() < 1e-12);
        assert_eq!(score_ppm(uniform), 3906);
        // Tokens spanning two bytes each: half the tokens for the same text.
        assert!((bits_per_byte(2.0 * 2f64.ln(), 500, 1000) - 1.0).abs() < 1e-12);
        assert_eq!(score_ppm(0.0), 1_000_000);
        assert_eq!(score_ppm(1.0), 500_000);
        assert_eq!(score_ppm(f64::INFINITY), 0);
        assert_eq!(score_ppm(f64::NAN), 0);
        assert_eq!(score_ppm(-1.0), 0);
        assert!(bits_per_byte(1.0, 1, 0).is_nan());
        // Monotonic: a lower loss never scores less.
        let scores: Vec<u32> = (0..100).map(|i| score_ppm(i as f64 * 0.05)).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    }
}
