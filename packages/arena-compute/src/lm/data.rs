//! Text for the language model: the byte-level tokens (one token per byte, vocabulary 256), a
//! corpus read from a file, its deterministic train / held-out split, and the token windows the
//! model trains and evaluates on (through any [`Tokenizer`]).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::tokens::{Encoded, Tokenizer};
use crate::data::DataFile;
use crate::{Error, Result};

/// Bytes to tokens: token = byte value. Any byte string (UTF-8 or not) round-trips.
pub fn encode_bytes(text: &[u8]) -> Vec<u32> {
    text.iter().map(|&b| b as u32).collect()
}

/// Tokens to bytes; `None` if a token is not a byte (>= 256).
pub fn decode_bytes(tokens: &[u32]) -> Option<Vec<u8>> {
    tokens.iter().map(|&t| u8::try_from(t).ok()).collect()
}

/// A body of text.
#[derive(Clone, Debug, PartialEq)]
pub struct TextCorpus {
    pub bytes: Vec<u8>,
    /// The file it came from (none for text built in memory).
    pub files: Vec<DataFile>,
    /// How reports and errors name it.
    pub name: String,
}

impl TextCorpus {
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Self {
        TextCorpus { bytes, files: Vec::new(), name: name.to_string() }
    }

    /// Reads a text file (any bytes; the byte tokenizer needs no decoding, a `tokenizer.json`
    /// refuses what is not UTF-8 when it encodes it).
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        if bytes.is_empty() {
            return Err(Error::EmptyDataset { path: path.into(), reason: "the text file is empty".into() });
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let name = path.display().to_string();
        Ok(TextCorpus { bytes, files: vec![DataFile { path: path.into(), sha256 }], name })
    }

    /// sha256 of the text.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// (train, held-out): the held-out part is the last `held_out` fraction of the bytes, moved
    /// forward to the next line start so no line is cut in two. A contiguous tail rather than
    /// scattered windows: the held-out text shares no sentence with the training text.
    pub fn split(&self, held_out: f64) -> (TextCorpus, TextCorpus) {
        let n = self.bytes.len();
        let mut cut = ((n as f64) * (1.0 - held_out.clamp(0.0, 1.0))).round() as usize;
        while cut > 0 && cut < n && self.bytes[cut - 1] != b'\n' {
            cut += 1;
        }
        let part = |bytes: &[u8], which: &str| TextCorpus {
            bytes: bytes.to_vec(),
            files: self.files.clone(),
            name: format!("{} ({which})", self.name),
        };
        (part(&self.bytes[..cut], "train"), part(&self.bytes[cut..], "held-out"))
    }

    /// The byte tokens in windows of `ctx + 1`: [`Self::windows_with`] the byte tokenizer.
    pub fn windows(&self, ctx: usize) -> Result<TokenWindows> {
        self.windows_with(&Tokenizer::Bytes, ctx)
    }

    /// The text as `tokenizer`'s tokens (one sequence) in windows of `ctx + 1`
    /// ([`TokenWindows::cut`]), every target counted.
    pub fn windows_with(&self, tokenizer: &Tokenizer, ctx: usize) -> Result<TokenWindows> {
        let encoded = tokenizer.encode(&self.bytes, &self.name)?;
        TokenWindows::cut(encoded, None, ctx, &self.name, self.sha256())
    }
}

/// Token windows cut from one token stream.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenWindows {
    pub tokens: Vec<u32>,
    /// Tokens per window: the model's context plus the last target.
    pub window: usize,
    /// Where each window starts in `tokens`.
    pub starts: Vec<usize>,
    /// Per token, the UTF-8 bytes of the text it stands for (1 each for byte tokens).
    pub token_bytes: Vec<u32>,
    /// UTF-8 bytes of the predicted text (the targets that count), the denominator of bits per
    /// byte: [`Self::window_bytes`] summed over the windows.
    pub target_bytes: u64,
    /// Per token, whether predicting it counts (1) in the loss and the score: the assistant's
    /// text of a chat ([`super::ChatData`]); `None` counts every target.
    pub mask: Option<Vec<u8>>,
    pub name: String,
    /// sha256 of the text the windows were cut from.
    pub sha256: String,
}

impl TokenWindows {
    /// Cuts `encoded` into windows of `ctx + 1` tokens: window i covers tokens i ctx ..=
    /// (i + 1) ctx, so consecutive windows share one token and every token after the first is a
    /// target exactly once (its bytes counted once, in that window). A tail too short for a whole
    /// window is left out (and not counted in `target_bytes`). `mask`: per token, whether it
    /// counts as a target (None: all do).
    pub fn cut(encoded: Encoded, mask: Option<Vec<u8>>, ctx: usize, name: &str, sha256: String) -> Result<Self> {
        let count = encoded.ids.len().saturating_sub(1) / ctx;
        if count == 0 {
            return Err(Error::EmptyDataset {
                path: name.into(),
                reason: format!("{} tokens is less than one window of {} tokens", encoded.ids.len(), ctx + 1),
            });
        }
        let mut windows = TokenWindows {
            tokens: encoded.ids,
            token_bytes: encoded.bytes,
            window: ctx + 1,
            starts: (0..count).map(|i| i * ctx).collect(),
            target_bytes: 0,
            mask,
            name: name.to_string(),
            sha256,
        };
        windows.target_bytes = (0..count).map(|i| windows.window_bytes(i)).sum();
        Ok(windows)
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Window i.
    pub fn get(&self, i: usize) -> &[u32] {
        &self.tokens[self.starts[i]..self.starts[i] + self.window]
    }

    /// Predicted tokens over all windows.
    pub fn targets(&self) -> u64 {
        (self.len() * (self.window - 1)) as u64
    }

    /// Window i's target mask (1 where the target counts), `window - 1` entries.
    pub fn target_mask(&self, i: usize) -> Vec<u8> {
        match &self.mask {
            Some(m) => m[self.starts[i] + 1..self.starts[i] + self.window].to_vec(),
            None => vec![1; self.window - 1],
        }
    }

    /// UTF-8 bytes of window i's counted targets.
    pub fn window_bytes(&self, i: usize) -> u64 {
        let targets = &self.token_bytes[self.starts[i] + 1..self.starts[i] + self.window];
        targets.iter().zip(self.target_mask(i)).filter(|&(_, m)| m != 0).map(|(&b, _)| b as u64).sum()
    }

    /// Predicted tokens that count in the loss and the score, over all windows.
    pub fn counted_targets(&self) -> u64 {
        match &self.mask {
            Some(_) => (0..self.len()).map(|i| self.target_mask(i).iter().filter(|&&m| m != 0).count() as u64).sum(),
            None => self.targets(),
        }
    }

    /// Fails with the first token at or above `vocab`.
    pub fn check_vocab(&self, vocab: usize) -> Result<()> {
        match self.tokens.iter().position(|&t| t as usize >= vocab) {
            Some(position) => {
                Err(Error::TokenOutOfRange { what: self.name.clone(), position, token: self.tokens[position], vocab })
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_windows_cover_every_target_once() {
        let text = "héllo, wörld\n".repeat(5).into_bytes();
        assert_eq!(decode_bytes(&encode_bytes(&text)).unwrap(), text);
        assert_eq!(decode_bytes(&[65, 256]), None);
        let c = TextCorpus::from_bytes("t", text.clone());
        let w = c.windows(8).unwrap();
        assert_eq!(w.len(), (text.len() - 1) / 8);
        assert_eq!(w.get(1)[0], w.get(0)[8], "consecutive windows share their boundary token");
        assert_eq!(w.targets(), w.target_bytes);
        assert!(TextCorpus::from_bytes("t", b"short".to_vec()).windows(8).is_err());
        assert!(matches!(w.check_vocab(128), Err(Error::TokenOutOfRange { position: 1, token: 195, .. })));
    }

    #[test]
    fn split_is_deterministic_and_cuts_at_a_line_start() {
        let c = TextCorpus::from_bytes("t", b"one\ntwo two\nthree\nfour four\nfive\n".to_vec());
        let (train, held) = c.split(0.5);
        assert_eq!([train.bytes.clone(), held.bytes.clone()].concat(), c.bytes);
        assert!(train.bytes.ends_with(b"\n"));
        assert_eq!(held.bytes, b"four four\nfive\n");
        assert_eq!(c.split(0.5), (train, held));
    }
}
