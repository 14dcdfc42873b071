//! `gpu-worker`: train, evaluate and inspect adapters from the command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use gpu_worker::lm::{
    self, ChatData, GptSpec, GptWeights, LmTrainConfig, LoraAdapter, LoraConfig, SampleConfig, TextCorpus, Tokenizer,
    BYTE_VOCAB,
};
use gpu_worker::node::{commands, NodeError, NodeRole};
use gpu_worker::{
    list_adapters, Backend, CsvOptions, Dataset, Engine, GpuBackend, GpuOptions, LabelColumn, Model, ModelSpec,
    Optimizer, ScalingKind, TrainConfig,
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "gpu-worker",
    version,
    about = "Arena's trainer, validator and creator nodes: models trained and evaluated as wgpu compute shaders"
)]
struct Cli {
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto, global = true, env = "GPU_WORKER_BACKEND")]
    backend: BackendArg,
    /// GPU adapter: an index from `gpu-worker info` or part of its name (default: the best one).
    /// A language model's LoRA adapter is given with --lora.
    #[arg(long, global = true, env = "GPU_WORKER_ADAPTER")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum BackendArg {
    /// Vulkan, else GL.
    Auto,
    Vulkan,
    Gl,
    /// The plain-Rust reference implementation (no GPU).
    CpuReference,
}

/// Where the data comes from.
#[derive(clap::Args)]
struct DataArgs {
    /// A CSV file (optionally .gz), or an IDX image file (with --labels).
    #[arg(long)]
    data: PathBuf,
    /// The IDX label file that goes with an IDX image file.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// CSV: the label column: first, last, or a 0-based index.
    #[arg(long, default_value = "last")]
    label_column: LabelColumn,
    /// CSV: the first line is a header.
    #[arg(long)]
    header: bool,
}

impl DataArgs {
    fn load(&self, classes: Option<usize>) -> gpu_worker::Result<Dataset> {
        match &self.labels {
            Some(labels) => Dataset::from_idx(&self.data, labels, classes),
            None => Dataset::from_csv(
                &self.data,
                &CsvOptions { label_column: self.label_column, header: self.header, classes },
            ),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Adam,
    Sgd,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model and write it as safetensors.
    Train {
        #[command(flatten)]
        data: DataArgs,
        /// Architecture: mlp:<hidden sizes>[:relu|tanh|gelu], e.g. mlp:128,64.
        #[arg(long, default_value = "mlp:128,64")]
        model: String,
        #[arg(long, default_value_t = 60)]
        epochs: usize,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
        optimizer: OptimizerArg,
        /// Learning rate (default: 0.001 for Adam, 0.05 for SGD).
        #[arg(long)]
        lr: Option<f32>,
        /// SGD momentum.
        #[arg(long, default_value_t = 0.9)]
        momentum: f32,
        #[arg(long, default_value_t = 0.0)]
        weight_decay: f32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Feature scaling fitted on the training data and stored in the model.
        #[arg(long, default_value = "standard")]
        scaling: ScalingKind,
        /// Number of classes (default: the largest label plus one).
        #[arg(long)]
        classes: Option<usize>,
        /// Where to write the model.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Train a GPT-2-layout language model from scratch on a text file (byte tokens, or a
    /// Hugging Face tokenizer.json's) and write it in Hugging Face's layout (config.json +
    /// model.safetensors, and the tokenizer.json when one is given).
    Pretrain {
        /// Architecture: gpt:layers=L,d=D,heads=H,ctx=T[,vocab=V]; with --tokenizer the vocabulary
        /// defaults to the tokenizer's.
        #[arg(long, default_value = "gpt:layers=2,d=64,heads=4,ctx=128")]
        model: String,
        /// A Hugging Face tokenizer.json to tokenize with (default: bytes); copied into the model
        /// directory, where finetune, eval and generate find it.
        #[arg(long)]
        tokenizer: Option<PathBuf>,
        /// A text file; its last --held-out fraction is kept out of training and scored at the end.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 0.1)]
        held_out: f64,
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Sequences (windows of ctx + 1 tokens) per step.
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Peak learning rate (linear warm-up, cosine decay to a tenth).
        #[arg(long, default_value_t = 3e-3)]
        lr: f32,
        #[arg(long, default_value_t = 0.1)]
        weight_decay: f32,
        /// Global gradient-norm clip (0: none).
        #[arg(long, default_value_t = 1.0)]
        max_grad_norm: f32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The model directory to write.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Fine-tune a LoRA adapter on a frozen language model (a model directory, with its
    /// tokenizer.json if it has one) with chat data
    /// (ShareGPT JSONL: the loss counts the assistant's text only) or plain text, and write it in
    /// PEFT's layout (adapter_config.json + adapter_model.safetensors).
    Finetune {
        /// The base model directory (config.json + model.safetensors).
        #[arg(long)]
        base: PathBuf,
        /// Adapter settings: r=R[,alpha=A][,targets=attn|attn+mlp]; alpha defaults to 2r.
        #[arg(long, default_value = "r=8,alpha=16")]
        lora: String,
        /// ShareGPT JSONL (.jsonl) or a text file; the last --held-out fraction (whole
        /// conversations) is scored before and after.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 0.1)]
        held_out: f64,
        #[arg(long, default_value_t = 100)]
        steps: usize,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Peak learning rate (linear warm-up, cosine decay to a tenth).
        #[arg(long, default_value_t = 1e-2)]
        lr: f32,
        /// Seeds A's initialization and the batch order.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The adapter directory to write.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Continue a prompt with a language model (sampled on the CPU reference, whatever --backend).
    Generate {
        /// The model directory (config.json + model.safetensors).
        #[arg(long)]
        model: PathBuf,
        /// A LoRA adapter directory for that model (PEFT's layout), merged in before sampling.
        #[arg(long)]
        lora: Option<PathBuf>,
        #[arg(long, default_value = "\n")]
        prompt: String,
        /// Tokens to generate.
        #[arg(long, default_value_t = 200)]
        tokens: usize,
        /// Softmax temperature; 0 is greedy.
        #[arg(long, default_value_t = 0.8)]
        temperature: f32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Evaluate a classifier on labelled data, or a language model (a model directory, with an
    /// optional LoRA adapter) on a text or ShareGPT JSONL file: bits per byte and score_ppm =
    /// round(1e6 * 2^-bits_per_byte); on JSONL only the assistant's text is scored.
    Eval {
        /// The model file (safetensors), or a language model's directory.
        #[arg(long)]
        model: PathBuf,
        /// A language model's LoRA adapter directory (PEFT's layout; made for this model).
        #[arg(long)]
        lora: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        /// Print one JSON object; a broken model reports score_ppm 0 with the reason.
        #[arg(long)]
        json: bool,
    },
    /// List adapters, backends and limits.
    Info,
    /// Work a task on the live chain as a trainer, validator or creator until the task is over.
    Run {
        /// The node's TOML config (documented in gpu-worker/worker.example.toml).
        #[arg(long)]
        config: PathBuf,
        /// Overrides the config's role.
        #[arg(long, value_enum)]
        role: Option<NodeRole>,
    },
    /// Serve a model store over HTTP, so validators on other machines can fetch its models.
    Serve {
        /// The store folder (a node's `<state_dir>/models`).
        #[arg(long)]
        store: PathBuf,
        /// Address to listen on; port 0 takes a free port, which the log names.
        #[arg(long, default_value = "127.0.0.1:7070")]
        listen: SocketAddr,
    },
    /// Show the node's task, stake, pending work and claimable rewards.
    Status {
        #[arg(long)]
        config: PathBuf,
    },
    /// Show the rewards the node's account can claim.
    Rewards {
        #[arg(long)]
        config: PathBuf,
    },
    /// Pay the node's rewards out as cw20 on the Cosmos chain.
    Claim {
        #[arg(long)]
        config: PathBuf,
    },
    /// Send the node's rewards to an EVM address on Base Sepolia through the bridge.
    Withdraw {
        #[arg(long)]
        config: PathBuf,
        /// The EVM recipient (0x..., checksummed or all one case).
        #[arg(long)]
        to: String,
    },
}

fn backend(cli: &Cli) -> Backend {
    if cli.backend == BackendArg::CpuReference {
        return Backend::CpuReference;
    }
    Backend::Gpu(GpuOptions { backend: gpu_backend(cli.backend), adapter: cli.adapter.clone(), ..Default::default() })
}

fn engine(cli: &Cli) -> gpu_worker::Result<Engine> {
    // `--adapter` picks the GPU; a LoRA adapter's directory there is a slip worth naming.
    if let Some(dir) = cli.adapter.as_deref().filter(|a| Path::new(a).join(lm::ADAPTER_CONFIG_FILE).is_file()) {
        return Err(gpu_worker::Error::Config(format!(
            "--adapter picks the GPU adapter (an index or a name from `gpu-worker info`), and {dir} is a LoRA \
             adapter's directory: give it with --lora {dir}"
        )));
    }
    Engine::new(&backend(cli))
}

/// Runs a node subcommand on a tokio runtime.
fn block_on(work: impl std::future::Future<Output = Result<(), NodeError>>) -> anyhow::Result<ExitCode> {
    tokio::runtime::Runtime::new()?.block_on(work)?;
    Ok(ExitCode::SUCCESS)
}

fn gpu_backend(arg: BackendArg) -> Option<GpuBackend> {
    match arg {
        BackendArg::Vulkan => Some(GpuBackend::Vulkan),
        BackendArg::Gl => Some(GpuBackend::Gl),
        _ => None,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A node reports its work as it goes; the one-shot commands print only their results. wgpu
    // logs failed EGL probes at error level while it looks for GL adapters: noise here.
    let node = matches!(cli.command, Command::Run { .. } | Command::Serve { .. });
    let default_filter =
        if node { "info,wgpu_core=warn,wgpu_hal=warn,naga=warn,wgpu_hal::gles=off" } else { "warn,wgpu_hal::gles=off" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Info => info(cli),
        Command::Train {
            data,
            model,
            epochs,
            batch,
            optimizer,
            lr,
            momentum,
            weight_decay,
            seed,
            scaling,
            classes,
            out,
        } => {
            let spec = ModelSpec::parse(model)?;
            let optimizer = match optimizer {
                OptimizerArg::Adam => Optimizer::adam(lr.unwrap_or(1e-3)),
                OptimizerArg::Sgd => Optimizer::Sgd { lr: lr.unwrap_or(0.05), momentum: *momentum },
            };
            let cfg = TrainConfig {
                epochs: *epochs,
                batch_size: *batch,
                optimizer,
                weight_decay: *weight_decay,
                seed: *seed,
                scaling: *scaling,
                classes: *classes,
            };
            let dataset = data.load(*classes)?;
            let engine = engine(cli)?;
            train(&engine, &dataset, &spec, &cfg, out)
        }
        Command::Pretrain {
            model,
            tokenizer,
            data,
            held_out,
            steps,
            batch,
            lr,
            weight_decay,
            max_grad_norm,
            seed,
            out,
        } => {
            let mut spec = GptSpec::parse(model)?;
            let tokenizer = match tokenizer {
                Some(path) => Tokenizer::from_file(path)?,
                None => Tokenizer::Bytes,
            };
            if spec.vocab == BYTE_VOCAB {
                // The spec string's default: the tokenizer's vocabulary.
                spec.vocab = tokenizer.vocab();
            }
            tokenizer.check_vocab(&spec, Path::new(model))?;
            let cfg = LmTrainConfig {
                steps: *steps,
                batch: *batch,
                lr: *lr,
                weight_decay: *weight_decay,
                max_grad_norm: *max_grad_norm,
                seed: *seed,
                ..LmTrainConfig::default()
            };
            pretrain(&engine(cli)?, (&spec, &tokenizer), data, *held_out, &cfg, out)
        }
        Command::Finetune { base, lora, data, held_out, steps, batch, lr, seed, out } => {
            let cfg = LmTrainConfig {
                steps: *steps,
                batch: *batch,
                lr: *lr,
                warmup: (*steps / 10).max(1),
                seed: *seed,
                ..LmTrainConfig::default()
            };
            finetune(&engine(cli)?, base, &LoraConfig::parse(lora)?, data, *held_out, &cfg, out)
        }
        Command::Generate { model, lora, prompt, tokens, temperature, seed } => generate(
            model,
            lora.as_deref(),
            prompt,
            &SampleConfig { tokens: *tokens, temperature: *temperature, seed: *seed },
        ),
        Command::Eval { model, lora, data, json } if model.is_dir() => {
            eval_lm(cli, model, lora.as_deref(), &data.data, *json)
        }
        Command::Eval { lora: Some(_), .. } => bail!("--lora goes with a language model's directory, not a classifier"),
        Command::Eval { model, data, json, .. } => eval(cli, model, data, *json),
        Command::Run { config, role } => block_on(commands::run(config, *role, backend(cli))),
        Command::Serve { store, listen } => block_on(commands::serve(store, *listen)),
        Command::Status { config } => block_on(commands::status(config)),
        Command::Rewards { config } => block_on(commands::rewards(config)),
        Command::Claim { config } => block_on(commands::claim(config)),
        Command::Withdraw { config, to } => block_on(commands::withdraw(config, to)),
    }
}

fn train(engine: &Engine, data: &Dataset, spec: &ModelSpec, cfg: &TrainConfig, out: &Path) -> anyhow::Result<ExitCode> {
    eprintln!(
        "training {spec} on {} ({} rows x {} features, sha256 {}) with {} ({})",
        data.name,
        data.rows,
        data.cols,
        data.sha256(),
        engine.adapter(),
        engine.backend()
    );
    let bar = ProgressBar::new(cfg.epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg} [{elapsed}]").expect("a valid template"),
    );
    let model = engine.train_with_progress(data, spec, cfg, &mut |r| {
        bar.set_position(r.epoch as u64);
        bar.set_message(format!("loss {:.4} acc {:.2}%", r.mean_loss, 100.0 * r.accuracy));
    })?;
    bar.finish();
    let sha = model.save(out)?;
    println!("wrote {} ({} parameters), sha256 {sha}", out.display(), model.parameters());
    Ok(ExitCode::SUCCESS)
}

fn pretrain(
    engine: &Engine,
    (spec, tokenizer): (&GptSpec, &Tokenizer),
    data: &Path,
    held_out: f64,
    cfg: &LmTrainConfig,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let corpus = TextCorpus::from_file(data)?;
    let (train, held) = corpus.split(held_out);
    let windows = train.windows_with(tokenizer, spec.ctx)?;
    eprintln!(
        "pretraining {spec} ({} parameters) on {} ({} bytes for training as {} tokens, {} held out, sha256 {}) \
         with {} ({})",
        spec.parameters(),
        data.display(),
        train.bytes.len(),
        windows.tokens.len(),
        held.bytes.len(),
        corpus.sha256(),
        engine.adapter(),
        engine.backend()
    );
    let bar = ProgressBar::new(cfg.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} step {pos}/{len} {msg} [{elapsed}]").expect("a valid template"),
    );
    let model = engine.pretrain_lm(spec, &windows, cfg, &mut |p| {
        bar.set_position(p.step as u64);
        bar.set_message(format!("loss {:.4}, {:.0} tokens/s", p.loss, p.tokens_per_second()));
    })?;
    bar.finish();
    if held_out > 0.0 {
        let e = engine.evaluate_lm(&model, &held.windows_with(tokenizer, spec.ctx)?)?;
        println!("held out  {:.4} bits per byte over {} bytes, score {} ppm", e.bits_per_byte, e.bytes, e.score_ppm);
    }
    let sha = model.save(out)?;
    tokenizer.save(out)?;
    println!("wrote {} ({} parameters), model.safetensors sha256 {sha}", out.display(), spec.parameters());
    Ok(ExitCode::SUCCESS)
}

/// A model directory's weights with its sha256, and its tokenizer (its tokenizer.json, or bytes).
fn load_base(dir: &Path) -> gpu_worker::Result<(GptWeights, String, Tokenizer)> {
    let (weights, sha) = GptWeights::load(dir)?;
    let tokenizer = Tokenizer::for_model(dir, &weights.spec)?;
    Ok((weights, sha, tokenizer))
}

/// What [`load_lm`] gives: the weights (adapter merged in), the base's sha256, the adapter's, and
/// the tokenizer.
type LoadedLm = (GptWeights, String, Option<String>, Tokenizer);

/// Loads a base and, if given, its adapter (checked against the base's sha256) merged in.
fn load_lm(model: &Path, lora: Option<&Path>) -> gpu_worker::Result<LoadedLm> {
    let (base, sha, tokenizer) = load_base(model)?;
    let Some(dir) = lora else { return Ok((base, sha, None, tokenizer)) };
    let (adapter, adapter_sha) = LoraAdapter::load(dir, &base.spec)?;
    adapter.check_base(&sha, dir)?;
    Ok((adapter.merge(&base)?, sha, Some(adapter_sha), tokenizer))
}

fn finetune(
    engine: &Engine,
    base_dir: &Path,
    lora: &LoraConfig,
    data: &Path,
    held_out: f64,
    cfg: &LmTrainConfig,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let (base, base_sha, tokenizer) = load_base(base_dir)?;
    let chat = ChatData::from_file(data)?;
    let (train, held) = chat.split(held_out);
    let windows = train.windows_with(&tokenizer, base.spec.ctx)?;
    let init = LoraAdapter::init(&base.spec, lora, &base_sha, cfg.seed);
    eprintln!(
        "fine-tuning a LoRA adapter (r {}, alpha {}, {} parameters on {} modules) on {} ({}, sha256 {base_sha}) with \
         {} (sha256 {}; {} conversations, {} held out) with {} ({})",
        lora.r,
        lora.alpha,
        init.len(),
        init.modules.len(),
        base_dir.display(),
        base.spec,
        data.display(),
        chat.sha256(),
        train.starts.len(),
        held.starts.len(),
        engine.adapter(),
        engine.backend()
    );
    let held = if held_out > 0.0 { Some(held.windows_with(&tokenizer, base.spec.ctx)?) } else { None };
    if let Some(h) = &held {
        let e = engine.evaluate_lm_adapter(&base, None, h)?;
        println!("held out  {:.4} bits per byte over {} bytes with the base alone", e.bits_per_byte, e.bytes);
    }
    let bar = ProgressBar::new(cfg.steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} step {pos}/{len} {msg} [{elapsed}]").expect("a valid template"),
    );
    let adapter = engine.finetune_lora(&base, init, &windows, cfg, &mut |p| {
        bar.set_position(p.step as u64);
        bar.set_message(format!("loss {:.4}, {:.0} counted tokens/s", p.loss, p.tokens_per_second()));
    })?;
    bar.finish();
    if let Some(h) = &held {
        let e = engine.evaluate_lm_adapter(&base, Some(&adapter), h)?;
        println!("held out  {:.4} bits per byte with the adapter, score {} ppm", e.bits_per_byte, e.score_ppm);
    }
    let sha = adapter.save(out)?;
    println!("wrote {} ({} parameters), adapter_model.safetensors sha256 {sha}", out.display(), adapter.len());
    Ok(ExitCode::SUCCESS)
}

fn generate(model: &Path, lora: Option<&Path>, prompt: &str, cfg: &SampleConfig) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let (w, _, _, tokenizer) = load_lm(model, lora)?;
    let mut stdout = std::io::stdout();
    stdout.write_all(prompt.as_bytes())?;
    lm::generate_text(&w, &tokenizer, prompt, cfg, &mut |text| {
        // Raw bytes out, as they come (byte tokens may not be UTF-8; the terminal shows them).
        let _ = stdout.write_all(text).and_then(|_| stdout.flush());
    })?;
    println!();
    Ok(ExitCode::SUCCESS)
}

/// A language model on a text file. With --json, what a validator runs: a model that is its
/// submitter's fault (unreadable, inconsistent, NaN) scores 0 with the reason.
fn eval_lm(cli: &Cli, model: &Path, lora: Option<&Path>, data: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let corpus = ChatData::from_file(data)?;
    let engine = engine(cli)?;
    let file_sha = |p: PathBuf| std::fs::read(p).ok().map(|b| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b)));
    let (w, sha, adapter_sha, tokenizer) = match load_lm(model, lora) {
        Err(e) if json && e.is_model_fault() => {
            let reject = serde_json::json!({
                "score_ppm": 0,
                "rejected": e.to_string(),
                "model_sha256": file_sha(model.join(lm::WEIGHTS_FILE)),
                "adapter_sha256": lora.and_then(|d| file_sha(d.join(lm::ADAPTER_WEIGHTS_FILE))),
                "tokenizer_sha256": file_sha(model.join(lm::TOKENIZER_FILE)),
                "data_sha256": corpus.sha256(),
            });
            println!("{}", serde_json::to_string_pretty(&reject)?);
            return Ok(ExitCode::SUCCESS);
        }
        other => other?,
    };
    let e = engine.evaluate_lm(&w, &corpus.windows_with(&tokenizer, w.spec.ctx)?)?;
    if json {
        let mut v = e.to_json();
        v["loss"] = e.mean_loss.into();
        v["model_sha256"] = sha.into();
        v["adapter_sha256"] = adapter_sha.into();
        v["tokenizer_sha256"] = tokenizer.sha256().into();
        v["architecture"] = w.spec.to_string().into();
        v["rejected"] = serde_json::Value::Null;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("model     {} ({}, model.safetensors sha256 {sha})", model.display(), w.spec);
    if let Some(t) = tokenizer.sha256() {
        println!("tokenizer {} (sha256 {t})", model.join(lm::TOKENIZER_FILE).display());
    }
    if let (Some(dir), Some(a)) = (lora, &adapter_sha) {
        println!("adapter   {} (adapter_model.safetensors sha256 {a}), merged", dir.display());
    }
    println!("data      {} (sha256 {})", data.display(), e.data_sha256);
    println!("device    {} ({})", e.adapter, e.backend);
    println!("loss      {:.6} nats per token over {} tokens ({} bytes)", e.mean_loss, e.tokens, e.bytes);
    println!("bits      {:.4} per byte", e.bits_per_byte);
    println!("score     {} ppm", e.score_ppm);
    Ok(ExitCode::SUCCESS)
}

fn eval(cli: &Cli, model: &Path, data: &DataArgs, json: bool) -> anyhow::Result<ExitCode> {
    let dataset = data.load(None)?;
    let engine = engine(cli)?;
    let e = if json {
        // A validator's run: a broken model scores 0 with its reason.
        engine.evaluate_file(model, &dataset)?
    } else {
        let (m, sha) = Model::load(model)?;
        let mut e = engine.evaluate(&m, &dataset)?;
        e.model_sha256 = sha;
        e
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&e.to_json())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("model     {} (sha256 {})", model.display(), e.model_sha256);
    for f in &e.data_files {
        println!("data      {} (sha256 {})", f.path.display(), f.sha256);
    }
    println!("device    {} ({})", e.adapter, e.backend);
    println!("accuracy  {:.4}% ({} of {} rows)", 100.0 * e.accuracy, e.correct, e.rows);
    println!("loss      {:.6}", e.mean_loss);
    println!("score     {} ppm", e.score_ppm);
    Ok(ExitCode::SUCCESS)
}

fn info(cli: &Cli) -> anyhow::Result<ExitCode> {
    if cli.backend == BackendArg::CpuReference {
        println!("backend cpu-reference: the plain-Rust reference implementation, no adapter needed");
        return Ok(ExitCode::SUCCESS);
    }
    let adapters = list_adapters(gpu_backend(cli.backend)).context("gpu-worker info")?;
    if adapters.is_empty() {
        bail!("no adapters");
    }
    for (i, a) in adapters.iter().enumerate() {
        println!("{i}: {} [{} {}] driver {} {}", a.name, a.backend, a.device_type, a.driver, a.driver_info);
        println!("   max storage binding {} MiB, max buffer {} MiB, workgroup storage {} KiB, {} invocations/workgroup, {} storage buffers/stage",
            a.max_storage_buffer_binding_size >> 20, a.max_buffer_size >> 20, a.max_compute_workgroup_storage_size >> 10,
            a.max_compute_invocations_per_workgroup, a.max_storage_buffers_per_shader_stage);
    }
    let gpu = engine(cli)?;
    println!(
        "selected: {} ({}), matmul kernel {:?}",
        gpu.adapter(),
        gpu.backend(),
        gpu.gpu().map(|g| g.matmul_variant())
    );
    Ok(ExitCode::SUCCESS)
}
