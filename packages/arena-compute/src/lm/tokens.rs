//! Tokenizers: text to token ids and back. Byte-level tokens are built in (one token per byte,
//! vocabulary 256, no file); any Hugging Face `tokenizer.json` loads through the `tokenizers`
//! crate. A model directory decides which: [`Tokenizer::for_model`] reads its `tokenizer.json`
//! when there is one and bytes otherwise, and refuses a tokenizer that can produce an id the
//! model's embedding table (config.json's `vocab_size`) has no row for.
//!
//! Scores are bits per UTF-8 byte of the scored text whatever the tokenizer, so every token
//! carries the number of text bytes it stands for ([`Encoded::bytes`]; always 1 for bytes).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::data::{decode_bytes, encode_bytes};
use super::spec::{GptSpec, BYTE_VOCAB};
use crate::{Error, Result};

/// The Hugging Face file name of a tokenizer in a model directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// How text becomes tokens.
#[derive(Clone)]
pub enum Tokenizer {
    /// One token per byte value: any byte string round-trips.
    Bytes,
    /// A Hugging Face `tokenizer.json`.
    HuggingFace(Arc<HuggingFace>),
}

/// A loaded `tokenizer.json` with its file's bytes (copied verbatim into model directories, so
/// the sha256 a task commits to stays the same).
pub struct HuggingFace {
    tokenizer: tokenizers::Tokenizer,
    json: Vec<u8>,
    /// One more than the largest id it can produce, added tokens included.
    vocab: usize,
    path: PathBuf,
}

/// Token ids and, per token, the UTF-8 bytes of the text it stands for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub bytes: Vec<u32>,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tokenizer::Bytes => write!(f, "Tokenizer::Bytes"),
            Tokenizer::HuggingFace(h) => write!(f, "Tokenizer::HuggingFace({}, vocab {})", h.path.display(), h.vocab),
        }
    }
}

impl Tokenizer {
    /// Reads a `tokenizer.json`; any failure names the file.
    pub fn from_file(path: &Path) -> Result<Tokenizer> {
        let json = std::fs::read(path).map_err(|e| Error::io(path, &e))?;
        Tokenizer::from_json(json, path)
    }

    /// Parses a `tokenizer.json`'s bytes; `path` names it in errors.
    pub fn from_json(json: Vec<u8>, path: &Path) -> Result<Tokenizer> {
        let bad = |reason: String| Error::Tokenizer { path: path.into(), reason };
        let tokenizer = tokenizers::Tokenizer::from_bytes(&json)
            .map_err(|e| bad(format!("not a Hugging Face tokenizer.json: {e}")))?;
        let vocab = tokenizer.get_vocab(true).into_values().max().map_or(0, |id| id as usize + 1);
        if vocab == 0 {
            return Err(bad("the tokenizer has an empty vocabulary".into()));
        }
        Ok(Tokenizer::HuggingFace(Arc::new(HuggingFace { tokenizer, json, vocab, path: path.into() })))
    }

    /// The tokenizer of the model directory `dir` whose config.json says `spec`: its
    /// `tokenizer.json` when there is one, bytes otherwise; checked against the vocabulary.
    pub fn for_model(dir: &Path, spec: &GptSpec) -> Result<Tokenizer> {
        let path = dir.join(TOKENIZER_FILE);
        let tokenizer = if path.is_file() { Tokenizer::from_file(&path)? } else { Tokenizer::Bytes };
        tokenizer.check_vocab(spec, &dir.join(super::CONFIG_FILE))?;
        Ok(tokenizer)
    }

    /// Refuses a tokenizer that can produce an id at or above `spec.vocab` (config.json's
    /// `vocab_size`, the rows of the embedding table), naming `model` (the file that gave
    /// `spec`). A larger table than the tokenizer needs is accepted: checkpoints pad their
    /// embeddings (nanoGPT's 50,304 rows for GPT-2's 50,257 ids), and those rows are simply never
    /// an input or a target.
    pub fn check_vocab(&self, spec: &GptSpec, model: &Path) -> Result<()> {
        if self.vocab() <= spec.vocab {
            return Ok(());
        }
        let (path, what) = match self {
            Tokenizer::Bytes => (model.to_path_buf(), format!("there is no {TOKENIZER_FILE}, so tokens are bytes")),
            Tokenizer::HuggingFace(h) => (h.path.clone(), format!("this {TOKENIZER_FILE} is used")),
        };
        Err(Error::Tokenizer {
            path,
            reason: format!(
                "{what}, whose ids go up to {}, but the model ({}) has vocab_size = {}: it has no embedding for \
                 the ids above; give the model the tokenizer it was trained with (or vocab_size >= {})",
                self.vocab() - 1,
                model.display(),
                spec.vocab,
                self.vocab()
            ),
        })
    }

    /// One more than the largest id this tokenizer produces.
    pub fn vocab(&self) -> usize {
        match self {
            Tokenizer::Bytes => BYTE_VOCAB,
            Tokenizer::HuggingFace(h) => h.vocab,
        }
    }

    /// The sha256 of the `tokenizer.json`; None for bytes.
    pub fn sha256(&self) -> Option<String> {
        match self {
            Tokenizer::Bytes => None,
            Tokenizer::HuggingFace(h) => Some(hex::encode(Sha256::digest(&h.json))),
        }
    }

    /// Makes the model directory `dir` read as this tokenizer ([`Self::for_model`]): writes
    /// `dir/tokenizer.json` (the file as it was read) for a Hugging Face tokenizer; for bytes,
    /// which need no file, removes one an earlier model left there.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(TOKENIZER_FILE);
        match self {
            Tokenizer::HuggingFace(h) => std::fs::write(&path, &h.json).map_err(|e| Error::io(&path, &e)),
            Tokenizer::Bytes if path.is_file() => std::fs::remove_file(&path).map_err(|e| Error::io(&path, &e)),
            Tokenizer::Bytes => Ok(()),
        }
    }

    /// Encodes `text` (`what` names it in errors) without special tokens. Each token's byte count
    /// comes from its offsets in the text: a byte belongs to the first token whose span reaches
    /// it, so a character split over two byte-level tokens counts once, and bytes no span covers
    /// (offsets trimmed of spaces, text a normalizer dropped) go to the next token (the last one
    /// at the end). The counts add up to the text's length whenever there is a token.
    pub fn encode(&self, text: &[u8], what: &str) -> Result<Encoded> {
        let h = match self {
            Tokenizer::Bytes => return Ok(Encoded { ids: encode_bytes(text), bytes: vec![1; text.len()] }),
            Tokenizer::HuggingFace(h) => h,
        };
        let fail = |reason: String| Error::Tokenize { what: what.to_string(), reason };
        let text = std::str::from_utf8(text)
            .map_err(|e| fail(format!("not UTF-8 ({e}); a {TOKENIZER_FILE} tokenizes text")))?;
        let encoding = h.tokenizer.encode(text, false).map_err(|e| fail(e.to_string()))?;
        let mut covered = 0;
        let mut bytes: Vec<u32> = encoding
            .get_offsets()
            .iter()
            .map(|&(_, end)| {
                let n = end.max(covered) - covered;
                covered += n;
                n as u32
            })
            .collect();
        if let Some(last) = bytes.last_mut() {
            *last += (text.len() - covered) as u32;
        }
        Ok(Encoded { ids: encoding.get_ids().to_vec(), bytes })
    }

    /// The text of `ids` as bytes: the bytes themselves for the byte tokenizer, the tokenizer's
    /// decoding (with invalid UTF-8 replaced by U+FFFD) for a `tokenizer.json`.
    pub fn decode(&self, ids: &[u32]) -> Result<Vec<u8>> {
        match self {
            Tokenizer::Bytes => decode_bytes(ids).ok_or_else(|| {
                let position = ids.iter().position(|&t| t as usize >= BYTE_VOCAB).unwrap_or(0);
                Error::TokenOutOfRange { what: "decoding".into(), position, token: ids[position], vocab: BYTE_VOCAB }
            }),
            Tokenizer::HuggingFace(h) => h
                .tokenizer
                .decode(ids, false)
                .map(String::into_bytes)
                .map_err(|e| Error::Tokenize { what: "decoding".into(), reason: e.to_string() }),
        }
    }
}

/// Decodes tokens as they come, emitting text only once it is whole: a byte-level token can end
/// inside a UTF-8 character, whose bytes the next token completes.
pub struct TextStream<'t> {
    tokenizer: &'t Tokenizer,
    ids: Vec<u32>,
    /// Bytes of the decoding already emitted.
    sent: usize,
}

impl<'t> TextStream<'t> {
    pub fn new(tokenizer: &'t Tokenizer) -> Self {
        TextStream { tokenizer, ids: Vec::new(), sent: 0 }
    }

    /// Adds a token; returns the new text it completes (raw bytes for the byte tokenizer, as
    /// they come).
    pub fn push(&mut self, id: u32) -> Result<Vec<u8>> {
        if let Tokenizer::Bytes = self.tokenizer {
            return self.tokenizer.decode(&[id]);
        }
        self.ids.push(id);
        let text = self.tokenizer.decode(&self.ids)?;
        if text.ends_with("\u{FFFD}".as_bytes()) {
            return Ok(Vec::new());
        }
        Ok(self.take(text))
    }

    /// Whatever is still held back, decoded lossily.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        let text = self.tokenizer.decode(&self.ids)?;
        Ok(self.take(text))
    }

    fn take(&mut self, text: Vec<u8>) -> Vec<u8> {
        let new = text.get(self.sent..).unwrap_or_default().to_vec();
        self.sent = text.len();
        new
    }
}
