//! `gpu-worker`: train, evaluate and inspect adapters from the command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
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
    /// Adapter: an index from `gpu-worker info` or part of its name (default: the best one).
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
    /// Evaluate a model on labelled data.
    Eval {
        /// The model file (safetensors).
        #[arg(long)]
        model: PathBuf,
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
        Command::Eval { model, data, json } => eval(cli, model, data, *json),
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
