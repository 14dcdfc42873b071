//! A language-model round on a real local chain, worked by `gpu-worker run` processes as people
//! run them: a creator, three trainers fine-tuning LoRA adapters of ranks 2, 4 and 8 over the
//! task's base (the task allows rank 4 at most), three validators, through finalization. The
//! over-limit adapter scores 0 with the reason in each validator's journal and `status`; the
//! others are scored by consensus, exactly as this test scores them itself, above the baseline
//! (the base's own score on the shard), and paid.
//!
//! The base tokenizes with a byte-level BPE `tokenizer.json` (GPT-2's layout, 10 merges: 266
//! tokens), which the task commits to beside the base: every node fetches it, checks its sha256
//! and tokenizes the chat with it, and bits per byte still count the assistant's UTF-8 bytes. (The
//! demo's language-model task is the byte-level one: `testnet/tests/demo.rs`.)
//!
//! Budget (2-core VM, debug build): the base (gpt:layers=1,d=32,heads=2,ctx=64,vocab=266, 23,328
//! parameters) is pretrained here for 20 steps on the CPU reference (~5 s); the nodes run on the
//! CPU reference too (`GPU_WORKER_BACKEND=cpu-reference`: deterministic, so this test's own
//! evaluation must equal the consensus, and no GPU is needed). Each trainer's 30 fine-tuning
//! steps take ~9 s alone, ~15-25 s with three at once on 2 cores: the submission phase of 250
//! blocks (~50 s) holds that twice over. Evaluations of the 30-conversation shard take well under
//! a second each. The whole test takes about two minutes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use arena_client::{BeaconSecret, Client, EvaluationKeys, MarketClient};
use arena_config::worker::{NodeConfig, NodeRole, TrainerConfig};
use arena_config::KeySource;
use arena_types::market::msg::{SubmissionStatus, TaskKind, LORA_FAMILY};
use cosmwasm_std::Uint128;
use gpu_worker::lm::{ChatData, GptSpec, GptWeights, LmTrainConfig, TextCorpus, Tokenizer};
use gpu_worker::node::lm::unpack_adapter;
use gpu_worker::{Backend, Engine};
use testnet::instruct::{split_instruct, ChatFiles};
use testnet::network::{NetworkConfig, Ports};
use testnet::process::Service;
use testnet::task::{shard_dir, LmTaskSpec, PhaseBlocks};
use testnet::{accounts, contracts, deploy, repo, Network};

const STAKE: u64 = 1_000_000;
/// The BPE's 266 tokens are the vocabulary.
const ARCHITECTURE: &str = "gpt:layers=1,d=32,heads=2,ctx=64,vocab=266";
const BPE_MERGES: usize = 10;
const PHASES: PhaseBlocks = PhaseBlocks { submission: 250, model_reveal: 40, commit: 120, reveal: 80 };
const MAX_LORA_RANK: u32 = 4;
/// Attention adapters of d = 32 have 192 r parameters: rank 8's 1,536 fit this limit, so the
/// market takes its reveal and only the validators' rank check refuses it.
const MAX_TRAINABLE_PARAMS: u64 = 2_000;
const CREATOR: u32 = 1;
/// Trainer accounts and the rank each fine-tunes with.
const TRAINERS: [(u32, usize); 3] = [(2, 2), (3, 4), (4, 8)];
const VALIDATORS: [u32; 3] = [5, 6, 7];

struct LmArena {
    _network: Network,
    home: tempfile::TempDir,
    /// Inside the repository (the nodes' data root): the data, the base and the sealed shard.
    files: tempfile::TempDir,
    market: MarketClient,
    manifest: PathBuf,
    task_id: u64,
    base: GptWeights,
    tokenizer: Tokenizer,
}

async fn start() -> LmArena {
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir_in(repo::root().join("target")).unwrap();
    let ChatFiles { train, eval } = split_instruct(files.path(), 0..200, 1_100..1_130).unwrap();
    // The base: a few pretraining steps on the training chat's text, so that it predicts bytes
    // better than uniformly and an adapter has something to improve on.
    let spec = GptSpec::parse(ARCHITECTURE).unwrap();
    let bpe = common::byte_level_bpe_json(BPE_MERGES).into_bytes();
    let tokenizer = Tokenizer::from_json(bpe, Path::new("tokenizer.json")).unwrap();
    assert_eq!(tokenizer.vocab(), spec.vocab);
    let text = TextCorpus::from_bytes("train", ChatData::from_file(&train).unwrap().bytes);
    let cfg = LmTrainConfig { steps: 20, warmup: 2, ..LmTrainConfig::default() };
    let engine = Engine::new(&Backend::CpuReference).unwrap();
    let windows = text.windows_with(&tokenizer, spec.ctx).unwrap();
    let base = engine.pretrain_lm(&spec, &windows, &cfg, &mut |_| {}).unwrap();
    base.save(&files.path().join("base")).unwrap();
    tokenizer.save(&files.path().join("base")).unwrap();

    let network = Network::start(&NetworkConfig::new(home.path().join("net"), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-market"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let manifest = home.path().join("manifest.json");
    network.manifest(deployed.clone(), Default::default()).write(&manifest).unwrap();
    let market = MarketClient::new(client, &deployed["arena-market"].address, &deployed["arena-token"].address);
    let secret = BeaconSecret::generate();
    let task = LmTaskSpec {
        train,
        eval,
        base: files.path().join("base/model.safetensors"),
        architecture: ARCHITECTURE.into(),
        tokenizer: Some(files.path().join("base/tokenizer.json")),
        max_lora_rank: MAX_LORA_RANK,
        max_trainable_params: MAX_TRAINABLE_PARAMS,
        rounds: 1,
        phases: PHASES,
        validators_per_submission: 3,
    };
    let (params, keys) = task.params(&secret, &shard_dir(files.path(), &secret.anchor(1))).unwrap();
    let creator = accounts::cosmos(CREATOR, "inj").unwrap();
    let (task_id, created) = market.create_task(&creator, 100_000_000, params).await.unwrap();
    // What a language-model task costs to create, to compare with the gas bench's classification
    // task (`create_task` there): the base's URI and sha256, the architecture and the two limits
    // are stored on top (~40 gas a byte).
    println!("create_task of a language-model task (1 round): {} gas", created.gas_used);
    secret.write_new(&BeaconSecret::path_in(home.path(), task_id)).unwrap();
    keys.write_new(&EvaluationKeys::path_in(home.path(), task_id)).unwrap();
    LmArena { _network: network, home, files, market, manifest, task_id, base, tokenizer }
}

impl LmArena {
    fn state_dir(&self, account: u32) -> PathBuf {
        self.home.path().join(format!("node-{account}"))
    }

    /// Writes the config of the node of devnet account `account` (a trainer fine-tunes with
    /// `rank`), returns its path.
    fn node_config(&self, account: u32, role: NodeRole, rank: usize) -> PathBuf {
        let path = self.home.path().join(format!("node-{account}.toml"));
        let config = NodeConfig {
            stake: Some(STAKE),
            data_root: repo::root(),
            poll_ms: 300,
            trainer: TrainerConfig {
                seed: account.into(),
                lora_rank: rank,
                lora_alpha: 2.0 * rank as f32,
                lm_steps: 30,
                ..TrainerConfig::default()
            },
            ..NodeConfig::new(
                self.manifest.clone(),
                self.task_id,
                role,
                self.state_dir(account),
                KeySource::DevnetAccount(account),
            )
        };
        arena_config::save(&path, &config).unwrap();
        path
    }

    fn spawn_node(&self, account: u32, role: NodeRole, rank: usize) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gpu-worker"));
        command
            .args(["run", "--config"])
            .arg(self.node_config(account, role, rank))
            .env("GPU_WORKER_BACKEND", "cpu-reference")
            .env("RUST_LOG", "info");
        let log = self.home.path().join(format!("node-{account}.log"));
        Service::spawn("gpu-worker", command, log, self.home.path().join(format!("node-{account}.pid"))).unwrap()
    }

    async fn wait_until_finalized(&self, timeout: Duration) {
        common::wait_until_finalized(&self.market, self.task_id, 1, self.home.path(), timeout).await
    }
}

impl Drop for LmArena {
    /// A failing test shows the tail of each node's log.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for entry in std::fs::read_dir(self.home.path()).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                eprintln!("--- {} ---\n{}", entry.path().display(), testnet::process::log_tail(&entry.path(), 30));
            }
        }
    }
}

/// `gpu-worker status` of a node, as a user runs it.
fn status(config: &Path) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_gpu-worker")).args(["status", "--config"]).arg(config).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "gpu-worker status failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_trainers_fine_tune_and_the_adapter_over_the_rank_limit_scores_zero() {
    let started = Instant::now();
    let arena = start().await;
    let task = arena.market.task(arena.task_id).await.unwrap();
    let TaskKind::LanguageModel(lm) = &task.params.kind else { panic!("not a language-model task: {task:?}") };
    assert_eq!((lm.max_lora_rank, lm.architecture.as_str()), (MAX_LORA_RANK, ARCHITECTURE));
    let committed = lm.tokenizer.as_ref().expect("the task commits to the base's tokenizer");
    assert_eq!(Some(committed.sha256.to_hex()), arena.tokenizer.sha256());
    let mut nodes = vec![arena.spawn_node(CREATOR, NodeRole::Creator, 0)];
    for (account, rank) in TRAINERS {
        nodes.push(arena.spawn_node(account, NodeRole::Trainer, rank));
    }
    for account in VALIDATORS {
        nodes.push(arena.spawn_node(account, NodeRole::Validator, 0));
    }
    arena.wait_until_finalized(Duration::from_secs(360)).await;

    // What the validators scored, computed here: the shard is the whole evaluation file (one
    // round); the baseline is the base's own score on it.
    let engine = Engine::new(&Backend::CpuReference).unwrap();
    let eval = ChatData::from_file(&arena.files.path().join("eval.jsonl")).unwrap();
    let shard = eval.windows_with(&arena.tokenizer, 64).unwrap();
    let bytes: u64 = shard.token_bytes.iter().map(|&b| u64::from(b)).sum();
    assert!((shard.tokens.len() as u64) < bytes, "the BPE's merges make fewer tokens than bytes");
    let baseline = engine.evaluate_lm_adapter(&arena.base, None, &shard).unwrap().score_ppm;
    let submissions = arena.market.submissions(arena.task_id, 1, None, 10).await.unwrap().submissions;
    assert_eq!(submissions.len(), 3, "one submission per trainer: {submissions:?}");
    let mut over_limit = None;
    for s in &submissions {
        let model = s.model.as_ref().expect("every trainer revealed its adapter");
        assert_eq!(model.metadata.family, LORA_FAMILY);
        assert_eq!(s.baseline, Some(baseline), "submission {}: the baseline is the base's score", s.id);
        let file = arena.state_dir(5).join(format!("models/{}.safetensors", model.sha256.to_hex()));
        let scratch = tempfile::tempdir().unwrap();
        let adapter = unpack_adapter(&std::fs::read(&file).unwrap(), &arena.base.spec, scratch.path()).unwrap();
        assert_eq!(adapter.base_sha256, lm.base.sha256.to_hex(), "adapters name the task's base");
        if adapter.config.r > MAX_LORA_RANK as usize {
            assert_eq!(s.consensus, Some(0), "the rank-{} adapter scores 0", adapter.config.r);
            assert_eq!(s.status, SubmissionStatus::BelowBaseline);
            assert_eq!((s.rank, s.reward), (None, Uint128::zero()));
            over_limit = Some(s.id);
        } else {
            let score = engine.evaluate_lm_adapter(&arena.base, Some(&adapter), &shard).unwrap().score_ppm;
            assert_eq!(s.consensus, Some(score), "submission {} (r = {})", s.id, adapter.config.r);
            assert_eq!(s.status, SubmissionStatus::Scored);
            assert!(
                score > baseline,
                "the rank-{} adapter improves on the base: {score} <= {baseline}",
                adapter.config.r
            );
            assert!(s.rank.is_some() && s.reward > Uint128::zero(), "{s:?}");
        }
    }
    let over_limit = over_limit.expect("the rank-8 trainer's adapter was scored");
    // Each validator journaled why, and `status` says it.
    for account in VALIDATORS {
        let shown = status(&arena.node_config(account, NodeRole::Validator, 0));
        let assigned = arena
            .market
            .validator_assignments(
                arena.task_id,
                accounts::cosmos(account, "inj").unwrap().address().as_ref(),
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(assigned.assignments.len(), 3, "k = 3 of 3 validators: all are assigned");
        assert!(
            shown.contains(&format!(
                "submission {over_limit}: 0, rejected: LoRA rank r = 8 is over the task's limit of {MAX_LORA_RANK}"
            )),
            "validator {account}:\n{shown}"
        );
    }
    let round = arena.market.round(arena.task_id, 1).await.unwrap();
    assert!(round.finalized && !round.void && round.paid > Uint128::zero(), "{round:?}");
    drop(nodes);
    println!("the language-model round took {:.0} s", started.elapsed().as_secs_f64());
}
