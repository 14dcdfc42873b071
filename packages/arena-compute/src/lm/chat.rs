//! Chat data for fine-tuning and scoring: ShareGPT JSONL rendered through one chat template, with
//! a per-token mask so the loss and the score count the assistant's text only.
//!
//! A line is `{"conversations": [{"from": "human", "value": "..."}, {"from": "gpt", "value":
//! "..."}]}`; roles are `system`, `human` (or `user`) and `gpt` (or `assistant`). Each turn is
//! rendered as
//!
//! ```text
//! <|system|>VALUE<|end|>\n
//! <|user|>VALUE<|end|>\n
//! <|assistant|>VALUE<|end|>\n
//! ```
//!
//! and conversations follow one another in file order (the byte tokenizer reads the markers as
//! plain bytes). The mask is 1 on the bytes of each assistant VALUE and 0 elsewhere (markers, the
//! system and user text): those bytes are the targets the loss averages over and the bytes bits
//! per byte divides by. A plain-text file is one stream with every byte counted.
//!
//! **Tokens.** Each rendered segment (a marker, a VALUE, an end marker) is tokenized on its own
//! and the token ids concatenated: no token ever spans two segments, so a token is wholly
//! assistant text or wholly not, and the mask is exact per token (each assistant byte in exactly
//! one counted token). With bytes this is the plain byte stream; with a BPE tokenizer, text that
//! would merge across a turn boundary (an end marker's newline and the next marker) does not.
//! A plain-text file is one segment, tokenized whole. Blank lines are
//! skipped; a malformed line, a line without conversations, an empty or non-string value, an
//! unknown role or a conversation without an assistant turn is refused with its line number.

use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::data::{TextCorpus, TokenWindows};
use super::tokens::{Encoded, Tokenizer};
use crate::{Error, Result};

/// The template's markers.
pub const SYSTEM: &str = "<|system|>";
pub const USER: &str = "<|user|>";
pub const ASSISTANT: &str = "<|assistant|>";
pub const END: &str = "<|end|>\n";

/// Who speaks a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    fn parse(from: &str) -> Option<Role> {
        match from {
            "system" => Some(Role::System),
            "human" | "user" => Some(Role::User),
            "gpt" | "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }

    fn marker(self) -> &'static str {
        match self {
            Role::System => SYSTEM,
            Role::User => USER,
            Role::Assistant => ASSISTANT,
        }
    }
}

/// One conversation's turns.
pub type Conversation = Vec<(Role, String)>;

/// Rendered chat (or plain text): the bytes, a mask over them, where each conversation starts
/// (for a split that never cuts one) and where each segment starts (tokenized apart).
#[derive(Clone, Debug, PartialEq)]
pub struct ChatData {
    pub bytes: Vec<u8>,
    /// 1 where a byte is assistant text (counted), 0 elsewhere.
    pub mask: Vec<u8>,
    /// Byte offset of each conversation.
    pub starts: Vec<usize>,
    /// Byte offset of each segment (module doc), in order; the mask is constant within one.
    pub segments: Vec<usize>,
    pub name: String,
}

/// The template applied to one conversation: (bytes, mask, segment offsets).
pub fn render(conversation: &Conversation) -> (Vec<u8>, Vec<u8>, Vec<usize>) {
    let (mut bytes, mut mask, mut segments) = (Vec::new(), Vec::new(), Vec::new());
    for (role, value) in conversation {
        let mut push = |text: &str, counted: bool| {
            segments.push(bytes.len());
            bytes.extend_from_slice(text.as_bytes());
            mask.resize(bytes.len(), counted as u8);
        };
        push(role.marker(), false);
        push(value, *role == Role::Assistant);
        push(END, false);
    }
    (bytes, mask, segments)
}

/// Parses one ShareGPT line; `Err` says what is wrong with it.
pub fn parse_line(line: &str) -> std::result::Result<Conversation, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("malformed JSON: {e}"))?;
    let turns = v
        .get("conversations")
        .and_then(Value::as_array)
        .ok_or("no \"conversations\" array (ShareGPT form: {\"conversations\": [{\"from\": ..., \"value\": ...}]})")?;
    if turns.is_empty() {
        return Err("the conversation is empty".into());
    }
    let mut out = Vec::with_capacity(turns.len());
    for (i, turn) in turns.iter().enumerate() {
        let from = turn.get("from").and_then(Value::as_str).ok_or(format!("turn {i} has no \"from\" string"))?;
        let role = Role::parse(from)
            .ok_or(format!("turn {i}: unknown role {from:?} (system, human or user, gpt or assistant)"))?;
        let value = turn.get("value").and_then(Value::as_str).ok_or(format!("turn {i} has no \"value\" string"))?;
        if value.is_empty() {
            return Err(format!("turn {i} ({from}) is empty"));
        }
        out.push((role, value.to_string()));
    }
    if !out.iter().any(|(r, _)| *r == Role::Assistant) {
        return Err("the conversation has no assistant (gpt) turn to learn or score".into());
    }
    Ok(out)
}

impl ChatData {
    /// Parses ShareGPT JSONL; `name` names the source in errors.
    pub fn from_jsonl(name: &str, text: &str) -> Result<ChatData> {
        let mut data = ChatData {
            bytes: Vec::new(),
            mask: Vec::new(),
            starts: Vec::new(),
            segments: Vec::new(),
            name: name.to_string(),
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let conversation = parse_line(line).map_err(|reason| Error::EmptyDataset {
                path: name.into(),
                reason: format!("line {}: {reason}", i + 1),
            })?;
            let (bytes, mask, segments) = render(&conversation);
            data.starts.push(data.bytes.len());
            data.segments.extend(segments.iter().map(|s| s + data.bytes.len()));
            data.bytes.extend(bytes);
            data.mask.extend(mask);
        }
        if data.starts.is_empty() {
            return Err(Error::EmptyDataset { path: name.into(), reason: "no conversations".into() });
        }
        Ok(data)
    }

    /// Plain text: one stream, every byte counted.
    pub fn from_text(corpus: &TextCorpus) -> ChatData {
        ChatData {
            mask: vec![1; corpus.bytes.len()],
            bytes: corpus.bytes.clone(),
            starts: vec![0],
            segments: vec![0],
            name: corpus.name.clone(),
        }
    }

    /// Reads `path`: ShareGPT JSONL when it ends in `.jsonl`, plain text otherwise.
    pub fn from_file(path: &Path) -> Result<ChatData> {
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
            ChatData::from_jsonl(&path.display().to_string(), &text)
        } else {
            Ok(ChatData::from_text(&TextCorpus::from_file(path)?))
        }
    }

    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// (train, held-out): the last `held_out` fraction of the conversations (at least one) held
    /// out; plain text splits at a line start as [`TextCorpus::split`].
    pub fn split(&self, held_out: f64) -> (ChatData, ChatData) {
        let cut = if self.starts.len() > 1 {
            let k = ((self.starts.len() as f64) * (1.0 - held_out.clamp(0.0, 1.0))).round() as usize;
            self.starts[k.clamp(1, self.starts.len() - 1)]
        } else {
            let (train, _) = TextCorpus::from_bytes(&self.name, self.bytes.clone()).split(held_out);
            train.bytes.len()
        };
        let part = |range: std::ops::Range<usize>, which: &str| ChatData {
            bytes: self.bytes[range.clone()].to_vec(),
            mask: self.mask[range.clone()].to_vec(),
            starts: self.starts.iter().filter(|&&s| range.contains(&s)).map(|s| s - range.start).collect(),
            // The cut is a conversation's start (a segment's), or plain text's one segment's
            // line start, which begins the held-out part's only segment.
            segments: std::iter::once(0)
                .chain(self.segments.iter().filter(|&&s| s > range.start && s < range.end).map(|s| s - range.start))
                .collect(),
            name: format!("{} ({which})", self.name),
        };
        (part(0..cut, "train"), part(cut..self.bytes.len(), "held-out"))
    }

    /// Byte-token windows of ctx + 1: [`Self::windows_with`] the byte tokenizer.
    pub fn windows(&self, ctx: usize) -> Result<TokenWindows> {
        self.windows_with(&Tokenizer::Bytes, ctx)
    }

    /// The segments tokenized apart by `tokenizer` (module doc), in windows of ctx + 1 tokens as
    /// [`TextCorpus::windows_with`], carrying the mask; `target_bytes` counts the UTF-8 bytes of
    /// the masked targets.
    pub fn windows_with(&self, tokenizer: &Tokenizer, ctx: usize) -> Result<TokenWindows> {
        let (encoded, mask) = self.encode(tokenizer)?;
        let w = TokenWindows::cut(encoded, Some(mask), ctx, &self.name, self.sha256())?;
        if w.target_bytes == 0 {
            return Err(Error::EmptyDataset {
                path: self.name.clone().into(),
                reason: "no assistant text falls inside a whole window".into(),
            });
        }
        Ok(w)
    }

    /// Every segment through `tokenizer`, concatenated: the tokens and their mask.
    pub fn encode(&self, tokenizer: &Tokenizer) -> Result<(Encoded, Vec<u8>)> {
        let (mut all, mut mask) = (Encoded::default(), Vec::new());
        let ends = self.segments.iter().skip(1).copied().chain([self.bytes.len()]);
        for (start, end) in self.segments.iter().copied().zip(ends) {
            let segment = tokenizer.encode(&self.bytes[start..end], &self.name)?;
            mask.resize(mask.len() + segment.ids.len(), self.mask[start]);
            all.ids.extend(segment.ids);
            all.bytes.extend(segment.bytes);
        }
        Ok((all, mask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"conversations":[{"from":"system","value":"Be brief."},{"from":"human","value":"Hi"},{"from":"gpt","value":"Hé"}]}"#;

    #[test]
    fn the_template_masks_assistant_text_only() {
        let c = parse_line(LINE).unwrap();
        let (bytes, mask, segments) = render(&c);
        assert_eq!(segments.len(), 3 * c.len());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text, "<|system|>Be brief.<|end|>\n<|user|>Hi<|end|>\n<|assistant|>Hé<|end|>\n");
        let counted: Vec<u8> = bytes.iter().zip(&mask).filter(|(_, &m)| m == 1).map(|(&b, _)| b).collect();
        assert_eq!(counted, "Hé".as_bytes(), "UTF-8 bytes of the assistant's text, nothing else");
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let cases = [
            ("{\"conversations\": [", "line 2: malformed JSON"),
            ("{\"conversations\": []}", "line 2: the conversation is empty"),
            (r#"{"conversations":[{"from":"robot","value":"x"}]}"#, "line 2: turn 0: unknown role \"robot\""),
            (r#"{"conversations":[{"from":"human","value":"x"}]}"#, "line 2: the conversation has no assistant"),
            (r#"{"conversations":[{"from":"gpt","value":""}]}"#, "line 2: turn 0 (gpt) is empty"),
            (r#"{"turns":[]}"#, "line 2: no \"conversations\" array"),
        ];
        for (bad, expected) in cases {
            let err = ChatData::from_jsonl("chat.jsonl", &format!("{LINE}\n{bad}\n")).unwrap_err().to_string();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }

    #[test]
    fn split_keeps_conversations_whole_and_windows_count_masked_bytes() {
        let text = (0..10).map(|_| LINE).collect::<Vec<_>>().join("\n");
        let data = ChatData::from_jsonl("c", &text).unwrap();
        let (train, held) = data.split(0.2);
        assert_eq!((train.starts.len(), held.starts.len()), (8, 2));
        assert!(held.bytes.starts_with(SYSTEM.as_bytes()));
        let w = data.windows(16).unwrap();
        let counted: u64 = (0..w.len()).map(|i| w.target_mask(i).iter().map(|&m| m as u64).sum::<u64>()).sum();
        assert_eq!(w.target_bytes, counted);
        assert!(counted > 0 && counted < w.targets());
    }
}
