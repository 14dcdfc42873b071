//! Tokenizers: the built-in byte tokens, a Hugging Face `tokenizer.json` picked from a model
//! directory and checked against its vocabulary, and a byte-level BPE (GPT-2's kind, trained here
//! on the vendored plays with the `tokenizers` crate) through the data, the chat mask, the
//! bits-per-byte count, evaluation and generation. CPU only (the CPU reference computes).

mod common;

use std::path::Path;

use arena_compute::lm::{
    generate_text, ChatData, GptSpec, GptWeights, SampleConfig, TextCorpus, Tokenizer, TOKENIZER_FILE,
};
use arena_compute::{Backend, Engine, Error};
use common::data_dir;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;

/// Tokens of the BPE trained here (byte alphabet + merges).
const BPE_VOCAB: usize = 320;

/// Writes a byte-level BPE of [`BPE_VOCAB`] tokens, trained on the first 60 kB of the plays, to
/// `dir/tokenizer.json` and loads it.
fn train_bpe(dir: &Path) -> Tokenizer {
    let text = std::fs::read_to_string(data_dir().join("shakespeare.txt")).unwrap();
    let lines: Vec<&str> = text[..60_000].lines().collect();
    let mut hf = tokenizers::Tokenizer::new(BPE::default());
    hf.with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
        .with_post_processor(Some(ByteLevel::default()))
        .with_decoder(Some(ByteLevel::default()));
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(BPE_VOCAB)
        .show_progress(false)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    hf.train(&mut trainer, lines.into_iter()).unwrap();
    let path = dir.join(TOKENIZER_FILE);
    hf.save(&path, false).unwrap();
    Tokenizer::from_file(&path).unwrap()
}

fn spec(vocab: usize) -> GptSpec {
    GptSpec::parse(&format!("gpt:layers=1,d=16,heads=2,ctx=32,vocab={vocab}")).unwrap()
}

#[test]
fn byte_tokens_round_trip_any_bytes_one_byte_each() {
    let text = [b"h\xc3\xa9llo \xff\xfe not UTF-8\n".as_slice(), &(0..=255u8).collect::<Vec<_>>()].concat();
    let encoded = Tokenizer::Bytes.encode(&text, "t").unwrap();
    assert_eq!(encoded.ids, text.iter().map(|&b| b as u32).collect::<Vec<_>>());
    assert_eq!(encoded.bytes, vec![1; text.len()]);
    assert_eq!(Tokenizer::Bytes.decode(&encoded.ids).unwrap(), text);
    assert_eq!(Tokenizer::Bytes.vocab(), 256);
    let corpus = TextCorpus::from_bytes("t", text.repeat(3));
    assert_eq!(corpus.windows_with(&Tokenizer::Bytes, 16).unwrap(), corpus.windows(16).unwrap());
}

#[test]
fn a_model_directory_picks_its_tokenizer_and_checks_the_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    GptWeights::init(&spec(256), 1).save(dir.path()).unwrap();
    assert!(matches!(Tokenizer::for_model(dir.path(), &spec(256)), Ok(Tokenizer::Bytes)));
    // Bytes need 256 rows.
    let err = Tokenizer::for_model(dir.path(), &spec(200)).unwrap_err();
    assert!(
        err.to_string().contains("there is no tokenizer.json, so tokens are bytes, whose ids go up to 255"),
        "{err}"
    );

    let bpe = train_bpe(dir.path());
    assert_eq!(bpe.vocab(), BPE_VOCAB);
    match Tokenizer::for_model(dir.path(), &spec(256)).unwrap_err() {
        Error::Tokenizer { path, reason } => {
            assert_eq!(path, dir.path().join(TOKENIZER_FILE));
            assert!(reason.contains(&format!("ids go up to {}", BPE_VOCAB - 1)), "{reason}");
            assert!(reason.contains("config.json) has vocab_size = 256"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let picked = Tokenizer::for_model(dir.path(), &spec(BPE_VOCAB)).unwrap();
    assert_eq!(picked.sha256(), bpe.sha256());
    // A padded embedding table (more rows than ids) is accepted.
    assert!(Tokenizer::for_model(dir.path(), &spec(BPE_VOCAB + 64)).is_ok());
    // Saving a byte model into the directory takes the old tokenizer.json away.
    Tokenizer::Bytes.save(dir.path()).unwrap();
    assert!(matches!(Tokenizer::for_model(dir.path(), &spec(256)), Ok(Tokenizer::Bytes)));
    picked.save(dir.path()).unwrap();
    assert_eq!(Tokenizer::for_model(dir.path(), &spec(BPE_VOCAB)).unwrap().sha256(), bpe.sha256());
}

#[test]
fn a_malformed_tokenizer_json_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(TOKENIZER_FILE);
    for bad in ["{\"model\": ", "{\"version\": \"1.0\", \"model\": {\"type\": \"Nonsense\"}}", "[]"] {
        std::fs::write(&path, bad).unwrap();
        let err = Tokenizer::for_model(dir.path(), &spec(256)).unwrap_err();
        assert!(matches!(&err, Error::Tokenizer { path: p, .. } if *p == path), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("not a Hugging Face tokenizer.json"));
        assert!(err.is_model_fault(), "a broken model directory is its maker's fault");
    }
}

#[test]
fn bpe_tokens_count_every_byte_of_the_text_once() {
    let dir = tempfile::tempdir().unwrap();
    let bpe = train_bpe(dir.path());
    let text = "Shall I compare thee to a summer's day? — déjà vu, ✓ 日本語\n  two  spaces\n".repeat(4);
    let encoded = bpe.encode(text.as_bytes(), "t").unwrap();
    assert!(encoded.ids.len() < text.len(), "merges make tokens of several bytes");
    assert_eq!(encoded.bytes.iter().map(|&b| b as usize).sum::<usize>(), text.len());
    assert_eq!(bpe.decode(&encoded.ids).unwrap(), text.as_bytes());
    // Characters outside the training text are split into byte tokens; each counts once.
    assert!(encoded.bytes.contains(&0), "a 3-byte character over several byte tokens");
    let err = bpe.encode(b"\xff", "latin-1").unwrap_err();
    assert!(err.to_string().contains("latin-1: cannot tokenize: not UTF-8"), "{err}");

    // Windows: the counted bytes are those of tokens 1 ..= count ctx (ASCII, so each token's text
    // decodes on its own).
    let ascii = std::fs::read_to_string(data_dir().join("shakespeare.txt")).unwrap()[..5_000].to_string();
    let ctx = 32;
    let w = TextCorpus::from_bytes("t", ascii.into_bytes()).windows_with(&bpe, ctx).unwrap();
    let targets = &w.tokens[1..=w.len() * ctx];
    assert_eq!(w.target_bytes, bpe.decode(targets).unwrap().len() as u64);
    assert_eq!(w.target_bytes, (0..w.len()).map(|i| w.window_bytes(i)).sum::<u64>());
    assert!(w.target_bytes > w.targets(), "fewer tokens than bytes");
}

#[test]
fn bpe_chat_masks_exactly_the_assistant_text() {
    let dir = tempfile::tempdir().unwrap();
    let bpe = train_bpe(dir.path());
    let text = std::fs::read_to_string(data_dir().join("shakespeare-instruct.jsonl")).unwrap();
    let chat = ChatData::from_jsonl("chat", &text.lines().take(40).collect::<Vec<_>>().join("\n")).unwrap();
    let (encoded, mask) = chat.encode(&bpe).unwrap();
    assert_eq!(mask.len(), encoded.ids.len());
    // Walk the tokens over the rendered bytes: token k stands for bytes [at, at + bytes[k]).
    let (mut at, mut counted_bytes, mut segment) = (0usize, 0usize, 0usize);
    let mut segment_tokens: Vec<Vec<u32>> = vec![Vec::new(); chat.segments.len()];
    for ((&id, &n), &m) in encoded.ids.iter().zip(&encoded.bytes).zip(&mask) {
        let span = &chat.mask[at..at + n as usize];
        assert!(span.iter().all(|&b| b == m), "a token at byte {at} mixes assistant and other text");
        counted_bytes += if m == 1 { n as usize } else { 0 };
        // A token of no bytes (the rest of a character split over byte tokens) stays in the
        // segment of the token before it.
        if n > 0 {
            segment = chat.segments.partition_point(|&s| s <= at) - 1;
        }
        segment_tokens[segment].push(id);
        at += n as usize;
    }
    assert_eq!(at, chat.bytes.len());
    assert_eq!(counted_bytes, chat.mask.iter().filter(|&&m| m == 1).count(), "every assistant byte counted once");
    // Each segment's tokens decode to exactly its text: no token crosses a turn boundary.
    let ends = chat.segments.iter().skip(1).copied().chain([chat.bytes.len()]);
    for ((start, end), tokens) in chat.segments.iter().copied().zip(ends).zip(&segment_tokens) {
        assert_eq!(bpe.decode(tokens).unwrap(), &chat.bytes[start..end]);
    }
    let w = chat.windows_with(&bpe, 32).unwrap();
    let summary = (w.counted_targets(), w.target_bytes, counted_bytes as u64);
    assert!(summary.0 < summary.1 && summary.1 <= summary.2, "{summary:?}");
}

#[test]
fn a_bpe_model_scores_bits_per_byte_of_the_text_and_generates_text() {
    let dir = tempfile::tempdir().unwrap();
    let bpe = train_bpe(dir.path());
    let model = GptWeights::init(&spec(BPE_VOCAB), 5);
    let text = std::fs::read(data_dir().join("shakespeare.txt")).unwrap();
    let held = TextCorpus::from_bytes("held", text[text.len() - 3_000..].to_vec()).windows_with(&bpe, 32).unwrap();
    let e = Engine::new(&Backend::CpuReference).unwrap().evaluate_lm(&model, &held).unwrap();
    assert_eq!((e.tokens, e.bytes), (held.targets(), held.target_bytes));
    let expected = e.mean_loss * e.tokens as f64 / std::f64::consts::LN_2 / e.bytes as f64;
    assert!((e.bits_per_byte - expected).abs() < 1e-12);
    // A fresh model is near uniform over its vocabulary: ln(320) nats a token, spread over bytes.
    assert!((e.mean_loss - (BPE_VOCAB as f64).ln()).abs() < 0.05, "{}", e.mean_loss);

    let cfg = SampleConfig { tokens: 40, temperature: 1.0, seed: 2 };
    let mut streamed = Vec::new();
    let out = generate_text(&model, &bpe, "ROMEO:", &cfg, &mut |piece| streamed.extend_from_slice(piece)).unwrap();
    assert_eq!(streamed, out);
    let again = generate_text(&model, &bpe, "ROMEO:", &cfg, &mut |_| {}).unwrap();
    assert_eq!(out, again);
    assert!(!out.is_empty());
}
