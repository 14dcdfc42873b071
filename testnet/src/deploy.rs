//! Stores and instantiates Arena's contracts and writes the manifest. Idempotent: code whose
//! checksum is already stored under the manifest's code id is reused, and so is a contract that
//! still runs that code.

use std::collections::BTreeMap;

use arena_client::{Client, Signer};
use cosmwasm_std::{Decimal, Uint128};
use cw20::{Cw20Coin, MinterResponse};

use crate::accounts;
use crate::contracts::Artifact;
use crate::error::TestnetError;
use crate::manifest::{DeployedContract, Manifest};

/// Each test account except the deployer gets this much of the Arena token at instantiation
/// (1,000,000 ARENA at 6 decimals).
pub const TOKEN_BALANCE_PER_ACCOUNT: u128 = 1_000_000_000_000;
/// Test accounts 1..=this hold Arena tokens.
pub const TOKEN_HOLDERS: u32 = 19;

/// Deploys every artifact; `previous` is the manifest of an earlier deploy to the same chain.
pub async fn deploy(
    client: &Client,
    artifacts: &[Artifact],
    previous: Option<&Manifest>,
) -> Result<BTreeMap<String, DeployedContract>, TestnetError> {
    let prefix = &client.config().bech32_prefix;
    let deployer = accounts::cosmos(accounts::DEPLOYER, prefix)?;
    let mut deployed = BTreeMap::new();
    for artifact in artifacts {
        let earlier = previous.and_then(|m| m.contracts.get(&artifact.package));
        let contract = deploy_one(client, &deployer, artifact, earlier, &deployed).await?;
        tracing::info!(contract = %artifact.package, code_id = contract.code_id, address = %contract.address, "deployed");
        deployed.insert(artifact.package.clone(), contract);
    }
    Ok(deployed)
}

async fn deploy_one(
    client: &Client,
    deployer: &Signer,
    artifact: &Artifact,
    earlier: Option<&DeployedContract>,
    deployed: &BTreeMap<String, DeployedContract>,
) -> Result<DeployedContract, TestnetError> {
    // Reuse the stored code if the chain still has these exact bytes under the recorded id.
    let reusable_code = match earlier {
        Some(e)
            if e.checksum == artifact.checksum
                && client.code_checksum(e.code_id).await?.as_deref() == Some(artifact.checksum.as_str()) =>
        {
            Some(e)
        }
        _ => None,
    };
    let (code_id, store_gas) = match reusable_code {
        Some(e) => (e.code_id, e.store_gas),
        None => {
            let wasm = std::fs::read(&artifact.path)
                .map_err(TestnetError::io(format!("reading {}", artifact.path.display())))?;
            let (code_id, outcome) = client.store_code(deployer, wasm).await?;
            (code_id, outcome.gas_used)
        }
    };
    if let Some(e) = reusable_code {
        if client.contract_code_id(&e.address).await? == Some(code_id) {
            return Ok(e.clone());
        }
    }
    let (address, outcome) = instantiate(client, deployer, &artifact.package, code_id, deployed).await?;
    Ok(DeployedContract {
        code_id,
        checksum: artifact.checksum.clone(),
        address,
        store_gas,
        instantiate_gas: outcome.gas_used,
    })
}

async fn instantiate(
    client: &Client,
    deployer: &Signer,
    package: &str,
    code_id: u64,
    deployed: &BTreeMap<String, DeployedContract>,
) -> Result<(String, arena_client::TxOutcome), TestnetError> {
    let admin = Some(deployer.address());
    let token = || {
        deployed
            .get("arena-token")
            .map(|t| t.address.clone())
            .ok_or_else(|| TestnetError::Build(format!("{package} needs arena-token deployed before it")))
    };
    let outcome = match package {
        "arena-token" => client.instantiate(deployer, code_id, &token_instantiate_msg(client)?, package, admin).await?,
        "arena-market" => {
            client
                .instantiate(
                    deployer,
                    code_id,
                    &market_instantiate_msg(
                        deployer,
                        &token()?,
                        deployed.get("arena-bridge").map(|b| b.address.as_str()),
                    ),
                    package,
                    admin,
                )
                .await?
        }
        "arena-bridge" => {
            client.instantiate(deployer, code_id, &bridge_instantiate_msg(client, &token()?)?, package, admin).await?
        }
        other => return Err(TestnetError::Build(format!("no instantiate message known for contract {other}"))),
    };
    Ok(outcome)
}

/// The market, paying withdrawals to the EVM side through the bridge (when deployed before it):
/// the deployer may pause it; operators may keep up to half of their delegators'
/// rewards and move their commission by at most 5 points per round.
pub fn market_instantiate_msg(
    deployer: &Signer,
    token: &str,
    bridge: Option<&str>,
) -> arena_types::market::msg::InstantiateMsg {
    arena_types::market::msg::InstantiateMsg {
        admin: Some(deployer.address().to_string()),
        token: token.to_string(),
        bridge: bridge.map(str::to_string),
        max_commission: Decimal::percent(50),
        max_commission_change: Decimal::percent(5),
        min_evm_withdrawal: None, // the market's default: 1 ARENA
        bridge_change_delay: None,
    }
}

/// The bridge: the devnet's three relayers attest, two of them suffice; a batch seals at 100
/// withdrawals or when the oldest has waited 50 blocks (~10 s). The EVM settlement address is set
/// once the EVM contracts are deployed.
pub fn bridge_instantiate_msg(
    client: &Client,
    token: &str,
) -> Result<arena_types::settlement::msg::InstantiateMsg, TestnetError> {
    use arena_types::settlement::msg::{Attester, BatchPolicy, InstantiateMsg};
    let prefix = &client.config().bech32_prefix;
    let attesters = accounts::RELAYERS
        .iter()
        .map(|&(cosmos, evm)| {
            Ok(Attester {
                evm_address: accounts::EVM_ADDRESSES[evm].to_string(),
                operator: accounts::cosmos(cosmos, prefix)?.address().to_string(),
            })
        })
        .collect::<Result<Vec<_>, TestnetError>>()?;
    Ok(InstantiateMsg {
        admin: accounts::cosmos(accounts::DEPLOYER, prefix)?.address().to_string(),
        token: token.to_string(),
        attesters,
        threshold: accounts::ATTESTATION_THRESHOLD,
        evm_chain_id: crate::evm::BASE_SEPOLIA_CHAIN_ID,
        evm_settlement: None,
        batch_policy: BatchPolicy { max_leaves: 100, max_age_blocks: 50 },
    })
}

/// The Arena token: 6 decimals, every test account but the deployer funded, the deployer minter.
pub fn token_instantiate_msg(client: &Client) -> Result<cw20_base::msg::InstantiateMsg, TestnetError> {
    let prefix = &client.config().bech32_prefix;
    let initial_balances = (1..=TOKEN_HOLDERS)
        .map(|i| {
            Ok(Cw20Coin {
                address: accounts::cosmos(i, prefix)?.address().to_string(),
                amount: Uint128::new(TOKEN_BALANCE_PER_ACCOUNT),
            })
        })
        .collect::<Result<Vec<_>, TestnetError>>()?;
    Ok(cw20_base::msg::InstantiateMsg {
        name: "Arena Token".into(),
        symbol: "ARENA".into(),
        decimals: 6,
        initial_balances,
        mint: Some(MinterResponse {
            minter: accounts::cosmos(accounts::DEPLOYER, prefix)?.address().to_string(),
            cap: None,
        }),
        marketing: None,
    })
}

/// The devnet settlement's timelock on attester-set changes: one day. A real deployment picks
/// what its users need to notice a change and leave (days, not seconds).
pub const EVM_TIMELOCK_SECONDS: u64 = 86_400;
/// The devnet settlement's cap on what the batches posted in one period may total: 1,000,000
/// ARENA (6 decimals) per day, the whole supply of one test account; a batch above it never posts.
pub const EVM_MINT_CAP_PER_PERIOD: u128 = 1_000_000_000_000;
/// The devnet settlement's rate-limit period: one day.
pub const EVM_MINT_PERIOD_SECONDS: u64 = 86_400;

/// Deploys ArenaSettlement (which deploys ArenaToken) on the EVM node for the bridge at `bridge`
/// on the Cosmos chain `chain_id`, with the devnet relayers' EVM keys as attesters, unless
/// `previous` names a settlement contract that is still there and settles that same bridge.
/// Returns the contracts by name, as the manifest records them.
pub async fn deploy_evm(
    evm_rpc_url: &str,
    chain_id: &str,
    bridge: &str,
    previous: Option<&Manifest>,
) -> Result<BTreeMap<String, String>, TestnetError> {
    use alloy::primitives::Address;
    use alloy::signers::local::PrivateKeySigner;
    use arena_evm::{BatchSource, EvmClient, EvmConfig, SettlementParams};

    let config = EvmConfig::new(evm_rpc_url, crate::evm::BASE_SEPOLIA_CHAIN_ID);
    let deployer: PrivateKeySigner = accounts::EVM_KEYS[0].parse().expect("anvil key 0 is a valid key");
    if let Some(settlement) = previous.and_then(|m| m.evm.contracts.get(SETTLEMENT)) {
        let address: Address = settlement
            .parse()
            .map_err(TestnetError::evm_address(format!("the manifest's {SETTLEMENT}"), settlement))?;
        // Connecting reads token() from the contract: it fails if nothing is deployed there. A
        // contract of another bridge (the bridge was instantiated again) cannot settle this one.
        if let Ok(client) = EvmClient::connect(config.clone(), deployer.clone(), address).await {
            if client.source().await.is_ok_and(|s| s == BatchSource::new(chain_id, bridge)) {
                return Ok(evm_contracts(client.settlement_address(), client.token_address()));
            }
        }
    }
    let params = SettlementParams {
        owner: deployer.address(),
        source: BatchSource::new(chain_id, bridge),
        timelock_delay: EVM_TIMELOCK_SECONDS,
        mint_cap_per_period: EVM_MINT_CAP_PER_PERIOD,
        mint_period: EVM_MINT_PERIOD_SECONDS,
        attesters: accounts::RELAYERS
            .iter()
            .map(|&(_, evm)| accounts::EVM_ADDRESSES[evm].parse().expect("valid address"))
            .collect(),
        threshold: accounts::ATTESTATION_THRESHOLD,
        token_name: "Arena Token".into(),
        token_symbol: "ARENA".into(),
    };
    let (_, deployment) = EvmClient::deploy(config, deployer, &params).await?;
    tracing::info!(settlement = %deployment.settlement, token = %deployment.token, gas = deployment.tx.gas_used, "deployed EVM contracts");
    Ok(evm_contracts(deployment.settlement, deployment.token))
}

/// The manifest's name of the EVM settlement contract.
pub const SETTLEMENT: &str = "ArenaSettlement";
/// The manifest's name of the EVM reward token.
pub const EVM_TOKEN: &str = "ArenaToken";

fn evm_contracts(
    settlement: alloy::primitives::Address,
    token: alloy::primitives::Address,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SETTLEMENT.to_string(), settlement.to_checksum(None)),
        (EVM_TOKEN.to_string(), token.to_checksum(None)),
    ])
}

/// Points the bridge's EIP-712 domain at the EVM settlement contract, unless it already is.
pub async fn connect_bridge_to_evm(client: &Client, bridge: &str, settlement: &str) -> Result<(), TestnetError> {
    use arena_types::settlement::msg::{ConfigResponse, ExecuteMsg, QueryMsg};
    let config: ConfigResponse = client.query_contract(bridge, &QueryMsg::Config {}).await?;
    if config.evm_settlement.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(settlement)) {
        return Ok(());
    }
    let admin = accounts::cosmos(accounts::DEPLOYER, &client.config().bech32_prefix)?;
    client.execute(&admin, bridge, &ExecuteMsg::SetEvmSettlement { address: settlement.to_string() }, vec![]).await?;
    Ok(())
}
