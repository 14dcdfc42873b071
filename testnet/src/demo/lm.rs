//! The demo's language-model task, posted beside the digits task on the same chain by the same
//! creator: fine-tune LoRA adapters of a tiny byte-level GPT ([`super::base`], cached across runs)
//! on the vendored Shakespeare instruction set, scored in bits per byte of the assistant's text of
//! each round's hidden shard. Three trainers ([`LM_TRAINERS`]: ranks 2, 4 and 8 under a limit of
//! 4) and the digits task's validators, each in a second `gpu-worker` process of its own for this
//! task, with the same account. After the rounds, a few evaluation prompts are continued by the
//! base and by each trainer's adapter for the report.

use std::ops::Range;
use std::path::{Path, PathBuf};

use arena_client::{BeaconSecret, EvaluationKeys, MarketClient, Signer};
use arena_config::worker::NodeRole;
use gpu_worker::lm::{generate, ChatData, GptWeights, LoraAdapter, SampleConfig};
use gpu_worker::node::lm::unpack_adapter;
use sha2::{Digest, Sha256};

use super::base::{BaseRecipe, CachedBase};
use super::cast::{self, name_of, Reads, LM_TRAINERS, VALIDATORS};
use super::report::RoundReport;
use super::report_lm::{bits_per_byte, BaseReport, LmEntry, LmReport, PromptSamples, Sample};
use crate::error::TestnetError;
use crate::instruct::{split_instruct, ChatFiles};
use crate::process::Service;
use crate::task::{shard_dir, LmTaskSpec, PhaseBlocks};

/// The language-model task's shape in the demo.
#[derive(Clone, Debug)]
pub struct LmOptions {
    pub rounds: u32,
    pub phases: PhaseBlocks,
    /// Fine-tuning steps of each trainer per round.
    pub finetune_steps: usize,
    /// Evaluation conversations whose prompts every model continues, and bytes per continuation.
    pub sample_prompts: usize,
    pub sample_bytes: usize,
}

pub const MAX_LORA_RANK: u32 = 4;
/// Attention adapters over the demo's base (d = 32, two layers) have 384 r trainable parameters:
/// rank 8's 3,072 fit, so the market takes the rank-8 reveal and the validators' rank check is
/// what refuses it.
const MAX_TRAINABLE_PARAMS: u64 = 4_000;
/// Lines of the instruction set trained on, and held out for evaluation (cut into one shard per
/// round).
const TRAIN_LINES: Range<usize> = 0..1_140;
const EVAL_LINES: Range<usize> = 1_140..1_200;

/// The posted task.
pub struct LmTask {
    pub task_id: u64,
    pub recipe: BaseRecipe,
    pub base: CachedBase,
    pub chat: ChatFiles,
}

/// Writes the task's chat files under `home`, seals its evaluation shards there, posts it from
/// `creator` with `pool` and keeps its beacon secret and keys where the creator node looks.
pub async fn post_task(
    market: &MarketClient,
    creator: &Signer,
    home: &Path,
    opts: &LmOptions,
    validators_per_submission: u32,
    pool: u128,
    (recipe, base): (BaseRecipe, CachedBase),
) -> Result<LmTask, TestnetError> {
    let chat = split_instruct(&home.join("lm-data"), TRAIN_LINES, EVAL_LINES)?;
    let spec = LmTaskSpec {
        train: chat.train.clone(),
        eval: chat.eval.clone(),
        base: base.weights_file(),
        architecture: recipe.architecture.clone(),
        tokenizer: None,
        max_lora_rank: MAX_LORA_RANK,
        max_trainable_params: MAX_TRAINABLE_PARAMS,
        rounds: opts.rounds,
        phases: opts.phases,
        validators_per_submission,
    };
    let secret = BeaconSecret::generate();
    let (params, keys) = spec.params(&secret, &shard_dir(home, &secret.anchor(opts.rounds)))?;
    let (task_id, _) = market.create_task(creator, pool, params).await?;
    secret.write_new(&BeaconSecret::path_in(home, task_id))?;
    keys.write_new(&EvaluationKeys::path_in(home, task_id))?;
    Ok(LmTask { task_id, recipe, base, chat })
}

/// Starts the task's nodes: its creator node, the three trainers, and a second node for each
/// validator (`<validator>-lm`, a config and state folder of its own). `reads_for` gives each
/// node its chain nodes.
pub fn start_nodes(
    home: &Path,
    manifest: &Path,
    task: &LmTask,
    opts: &LmOptions,
    mut reads_for: impl FnMut(&str) -> Reads,
) -> Result<Vec<Service>, TestnetError> {
    let id = task.task_id;
    let creator = "creator-lm";
    let mut nodes = vec![cast::start_node(
        home,
        manifest,
        id,
        creator,
        cast::CREATOR,
        NodeRole::Creator,
        &reads_for(creator),
        |_| {},
    )?];
    for t in &LM_TRAINERS {
        nodes.push(cast::start_node(
            home,
            manifest,
            id,
            t.name,
            t.account,
            NodeRole::Trainer,
            &reads_for(t.name),
            |n| n.trainer = cast::lm_trainer_config(t, opts.finetune_steps),
        )?);
    }
    for v in &VALIDATORS {
        let name = format!("{}-lm", v.name);
        nodes.push(cast::start_node(
            home,
            manifest,
            id,
            &name,
            v.account,
            NodeRole::Validator,
            &reads_for(&name),
            |n| n.validator = cast::validator_config(v),
        )?);
    }
    Ok(nodes)
}

/// The adapter each trainer revealed in `round`, read from the file its submission's URI names and
/// checked against the hash the chain holds; unpacked under `scratch`.
pub async fn revealed_adapters(
    market: &MarketClient,
    task: &LmTask,
    round: u32,
    scratch: &Path,
) -> Result<Vec<(String, LoraAdapter)>, TestnetError> {
    let mut adapters = Vec::new();
    for s in market.submissions(task.task_id, round, None, 100).await?.submissions {
        let Some(model) = s.model else { continue };
        let trainer = name_of(s.trainer.as_str(), "inj");
        let path = PathBuf::from(model.uri.strip_prefix("file://").unwrap_or(&model.uri));
        let bytes = std::fs::read(&path).map_err(TestnetError::io(format!("reading {trainer}'s adapter")))?;
        let bad = |reason: String| TestnetError::Data { path: path.clone(), reason };
        if hex::encode(Sha256::digest(&bytes)) != model.sha256.to_hex() {
            return Err(bad("not the file the submission committed to (sha256 differs)".into()));
        }
        let adapter = unpack_adapter(&bytes, &task.base.weights.spec, &scratch.join(&trainer)).map_err(bad)?;
        adapters.push((trainer, adapter));
    }
    adapters.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(adapters)
}

/// Greedy continuations, `opts.sample_bytes` long, of the prompts of the first
/// `opts.sample_prompts` conversations of the evaluation file, by the base and by the base with
/// each adapter merged in: one thread per model (generation runs on the CPU reference).
pub fn samples(
    base: &GptWeights,
    adapters: &[(String, LoraAdapter)],
    eval: &Path,
    opts: &LmOptions,
) -> Result<Vec<PromptSamples>, TestnetError> {
    let prompts = prompts(&ChatData::from_file(eval)?, opts.sample_prompts);
    let mut models = vec![("base".to_string(), base.clone())];
    for (trainer, adapter) in adapters {
        models.push((trainer.clone(), adapter.merge(base)?));
    }
    let config = SampleConfig { tokens: opts.sample_bytes, temperature: 0.0, seed: 0 };
    let continuations: Vec<Vec<String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = models
            .iter()
            .map(|(_, w)| scope.spawn(|| prompts.iter().map(|(p, _)| continue_prompt(w, p, &config)).collect()))
            .collect();
        threads.into_iter().map(|t| t.join().expect("a sampling thread panicked")).collect::<Result<_, _>>()
    })?;
    Ok(prompts
        .iter()
        .enumerate()
        .map(|(i, (prompt, reference))| PromptSamples {
            prompt: String::from_utf8_lossy(prompt).into_owned(),
            reference: String::from_utf8_lossy(reference).into_owned(),
            samples: models
                .iter()
                .zip(&continuations)
                .map(|((model, _), texts)| Sample { model: model.clone(), text: texts[i].clone() })
                .collect(),
        })
        .collect())
}

/// The first `n` conversations' prompts (their bytes up to the first assistant text: the turns
/// before it and the assistant's marker) with that assistant text, their reference answer.
fn prompts(chat: &ChatData, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let ends = chat.starts.iter().skip(1).copied().chain([chat.bytes.len()]);
    chat.starts
        .iter()
        .zip(ends)
        .take(n)
        .filter_map(|(&start, end)| {
            let answer = start + chat.mask[start..end].iter().position(|&m| m == 1)?;
            let answer_end = answer + chat.mask[answer..end].iter().position(|&m| m == 0).unwrap_or(end - answer);
            Some((chat.bytes[start..answer].to_vec(), chat.bytes[answer..answer_end].to_vec()))
        })
        .collect()
}

fn continue_prompt(model: &GptWeights, prompt: &[u8], config: &SampleConfig) -> Result<String, TestnetError> {
    let tokens: Vec<u32> = prompt.iter().map(|&b| u32::from(b)).collect();
    let out = generate(model, &tokens, config, &mut |_| {})?;
    let bytes: Vec<u8> = out[tokens.len()..].iter().map(|&t| t as u8).collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The task's part of the report: `rounds` as collected from the chain, the leaderboard with each
/// trainer's LoRA settings, and the samples.
pub fn report(task: &LmTask, rounds: Vec<RoundReport>, samples: Vec<PromptSamples>) -> LmReport {
    let mut leaderboard = Vec::new();
    for r in &rounds {
        for s in &r.submissions {
            let Some(t) = LM_TRAINERS.iter().find(|t| t.name == s.trainer) else { continue };
            leaderboard.push(LmEntry {
                round: r.round,
                trainer: s.trainer.clone(),
                lora_rank: t.lora_rank,
                learning_rate: t.learning_rate,
                score_ppm: s.consensus,
                bits_per_byte: bits_per_byte(s.consensus),
                baseline_bits_per_byte: bits_per_byte(s.baseline),
                status: s.status.clone(),
                reward: s.reward,
            });
        }
    }
    let (base, recipe) = (&task.base, &task.recipe);
    LmReport {
        task_id: task.task_id,
        base: BaseReport {
            architecture: recipe.architecture.clone(),
            parameters: base.weights.spec.parameters(),
            sha256: base.sha256.clone(),
            cache_dir: base.dir.display().to_string(),
            reused: base.reused,
            corpus: recipe.corpus.display().to_string(),
            pretrain_steps: recipe.steps,
        },
        max_lora_rank: MAX_LORA_RANK,
        rounds,
        leaderboard,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_is_the_conversation_up_to_the_assistants_text() {
        let line = r#"{"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Who?"}, {"from": "gpt", "value": "Nurse"}, {"from": "human", "value": "And?"}, {"from": "gpt", "value": "Romeo"}]}"#;
        let chat = ChatData::from_jsonl("t", &format!("{line}\n{line}\n")).unwrap();
        let got = prompts(&chat, 5);
        assert_eq!(got.len(), 2, "one per conversation");
        let (prompt, reference) = (String::from_utf8_lossy(&got[1].0), String::from_utf8_lossy(&got[1].1));
        assert!(prompt.starts_with("<|system|>Be brief.") && prompt.ends_with("<|user|>Who?<|end|>\n<|assistant|>"));
        assert!(!prompt.contains("Romeo") && !prompt.contains("Nurse"), "{prompt}");
        assert_eq!(reference, "Nurse");
    }
}
