//! `arena-relayer`: run a relayer, ask one for its status, or claim on the EVM side.

use std::path::PathBuf;
use std::process::ExitCode;

use alloy::primitives::Address;
use anyhow::Context;
use arena_evm::{EvmClient, EvmConfig};
use arena_relayer::config::{self, KeySource};
use arena_relayer::proto::StatusRequest;
use clap::{Args, Parser, Subcommand};

/// Arena's relayer: settles reward batches from the Cosmos bridge to the settlement contract on
/// Base Sepolia, serves claim proofs over gRPC, and claims for users.
#[derive(Debug, Parser)]
#[command(name = "arena-relayer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the settlement loop, the gRPC service and the metrics endpoint until SIGINT/SIGTERM.
    Start {
        /// The TOML config (see relayer/config.example.toml).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print a relayer's status: heights, contracts, attesters, batch counts.
    Status {
        /// The relayer's gRPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:50551")]
        relayer: String,
    },
    /// Claim a batch's leaves on the EVM side with proofs from a relayer.
    Claim(ClaimArgs),
}

#[derive(Debug, Args)]
struct ClaimArgs {
    /// The relayer's gRPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:50551")]
    relayer: String,
    /// The batch to claim from.
    #[arg(long)]
    batch: u64,
    /// File (mode 600) holding the EVM key that sends the claim (0x + 64 hex).
    #[arg(long, conflicts_with = "key_env", required_unless_present = "key_env")]
    key_file: Option<PathBuf>,
    /// Environment variable holding that key instead.
    #[arg(long)]
    key_env: Option<String>,
    /// Who receives the tokens; by default the key's own address.
    #[arg(long)]
    recipient: Option<Address>,
    /// The EVM JSON-RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8545")]
    evm_rpc: String,
    /// The EVM chain id.
    #[arg(long, default_value_t = 84532)]
    chain_id: u64,
    /// The ArenaSettlement contract.
    #[arg(long)]
    settlement: Address,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,h2=warn,hyper=warn,tower=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Start { config } => {
            let config = config::load(&config)?;
            let running = arena_relayer::run::start(&config).await?;
            running.until_signal().await?;
        }
        Command::Status { relayer } => {
            let mut client = arena_relayer::claim::connect(&relayer).await?;
            let s = client.status(StatusRequest {}).await.context("Status")?.into_inner();
            println!("cosmos      {} at height {}", s.cosmos_chain_id, s.cosmos_height);
            println!("evm         chain {} at height {}", s.evm_chain_id, s.evm_height);
            println!("bridge      {}", s.bridge);
            println!("settlement  {}", s.settlement);
            println!("attester    {} (operator {})", s.attester, s.operator);
            println!("attesters   {} of:", s.threshold);
            for a in &s.attesters {
                println!("            {} (operator {})", a.evm_address, a.operator);
            }
            println!(
                "batches     pending {}  attested {}  posted {}  confirmed {}  (as of height {})",
                s.pending, s.attested, s.posted, s.confirmed, s.last_pass_height
            );
        }
        Command::Claim(args) => {
            let source = match (&args.key_file, &args.key_env) {
                (Some(file), _) => KeySource::File(file.clone()),
                (None, Some(var)) => KeySource::Env(var.clone()),
                (None, None) => anyhow::bail!("give --key-file or --key-env"),
            };
            let signer = config::evm_signer(&source)?;
            let recipient = args.recipient.unwrap_or(signer.address());
            let evm = EvmClient::connect(EvmConfig::new(args.evm_rpc.clone(), args.chain_id), signer, args.settlement)
                .await
                .with_context(|| format!("connecting to {}", args.evm_rpc))?;
            let report = arena_relayer::claim::claim(&args.relayer, args.batch, recipient, &evm).await?;
            for (index, amount, tx) in &report.claimed {
                println!(
                    "claimed batch {} leaf {index}: {amount} in tx {} (block {})",
                    args.batch, tx.tx_hash, tx.block_number
                );
            }
            for index in &report.already_claimed {
                println!("batch {} leaf {index} was already claimed", args.batch);
            }
            println!("balance of {recipient}: {}", report.balance);
        }
    }
    Ok(())
}
