//! The arena-bridge outbox on a real local chain: withdrawals queued by cw20 `send`, a batch sealed
//! with its Merkle root computed in the contract, attestations whose signatures the chain's own
//! `secp256k1_recover_pubkey` checks, proofs, and the confirmation, all over gRPC.

use arena_client::{Client, ClientError, Signer};
use arena_types::settlement::eip712::{batch_digest, BatchSource, SettlementDomain};
use arena_types::settlement::evm::{to_hex_0x, EvmAddress};
use arena_types::settlement::merkle::MerkleTree;
use arena_types::settlement::msg::{
    BatchPolicy, BatchResponse, BatchStatus, ExecuteMsg, LeavesResponse, ProofResponse, QueryMsg, ReceiveMsg,
};
use arena_types::settlement::signature::EvmSignature;
use cosmwasm_std::{to_json_binary, Uint128};
use cw20::Cw20ExecuteMsg;
use k256::ecdsa::SigningKey;
use testnet::network::{NetworkConfig, Ports};
use testnet::{accounts, contracts, deploy, Network};

/// Any address will do for the EIP-712 domain here: no EVM contract is involved in this test.
const SETTLEMENT: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/// Signs `digest` with anvil development key `index`, as a relayer's attester key would.
fn attest_signature(index: usize, digest: &[u8; 32]) -> String {
    let key = SigningKey::from_slice(&hex::decode(&accounts::EVM_KEYS[index][2..]).unwrap()).unwrap();
    let (sig, recovery) = key.sign_prehash_recoverable(digest).unwrap();
    let bytes = sig.to_bytes();
    let sig = EvmSignature {
        r: bytes[..32].try_into().unwrap(),
        s: bytes[32..].try_into().unwrap(),
        recovery_id: recovery.to_byte(),
    };
    sig.to_hex()
}

#[tokio::test]
async fn withdrawals_are_sealed_attested_and_confirmed_on_chain() {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token", "arena-bridge"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let deployed = deploy::deploy(&client, &artifacts, None).await.unwrap();
    let (token, bridge) = (&deployed["arena-token"].address, &deployed["arena-bridge"].address);
    let prefix = client.config().bech32_prefix.clone();
    let account = |i| accounts::cosmos(i, &prefix).unwrap();
    let admin = account(accounts::DEPLOYER);

    admin_execute(&client, &admin, bridge, &ExecuteMsg::SetEvmSettlement { address: SETTLEMENT.into() }).await;
    let policy = BatchPolicy { max_leaves: 5, max_age_blocks: 1_000 };
    admin_execute(&client, &admin, bridge, &ExecuteMsg::UpdateBatchPolicy { batch_policy: policy }).await;

    // Five holders withdraw to five EVM addresses.
    for i in 1..=5u32 {
        let hook = ReceiveMsg::Withdraw { evm_recipient: accounts::EVM_ADDRESSES[i as usize].into() };
        let send = Cw20ExecuteMsg::Send {
            contract: bridge.clone(),
            amount: Uint128::new(1_000 * i as u128),
            msg: to_json_binary(&hook).unwrap(),
        };
        client.execute(&account(i), token, &send, vec![]).await.unwrap();
    }
    let sealed = client.execute(&account(6), bridge, &ExecuteMsg::SealBatch {}, vec![]).await.unwrap();

    // The contract's root and digest are the ones arena-types computes from the leaves.
    let batch: BatchResponse = client.query_contract(bridge, &QueryMsg::Batch { batch_id: 1 }).await.unwrap();
    let leaves: LeavesResponse =
        client.query_contract(bridge, &QueryMsg::Leaves { batch_id: 1, start_after: None, limit: None }).await.unwrap();
    let leaves: Vec<_> = leaves.leaves.iter().map(|l| l.to_leaf().unwrap()).collect();
    let tree = MerkleTree::of(&leaves).unwrap();
    assert_eq!((batch.count, batch.total.u128(), batch.root.clone()), (5, 15_000, to_hex_0x(&tree.root())));
    let domain = SettlementDomain { chain_id: 84532, verifying_contract: EvmAddress::parse(SETTLEMENT).unwrap() };
    let source = BatchSource::new(&client.config().chain_id, bridge);
    let digest = batch_digest(&domain, &batch.header(source).unwrap());
    assert_eq!(batch.digest.as_deref(), Some(to_hex_0x(&digest).as_str()));

    // A key outside the attester set is refused; two attesters make the batch postable.
    let stranger = client
        .execute(
            &account(6),
            bridge,
            &ExecuteMsg::Attest { batch_id: 1, signature: attest_signature(5, &digest) },
            vec![],
        )
        .await;
    assert!(matches!(stranger, Err(ClientError::Simulation(ref log)) if log.contains("attester")), "{stranger:?}");
    let mut attest_gas = Vec::new();
    for &(_, evm_key) in &accounts::RELAYERS[..2] {
        let msg = ExecuteMsg::Attest { batch_id: 1, signature: attest_signature(evm_key, &digest) };
        attest_gas.push(client.execute(&account(6), bridge, &msg, vec![]).await.unwrap().gas_used);
    }
    let batch: BatchResponse = client.query_contract(bridge, &QueryMsg::Batch { batch_id: 1 }).await.unwrap();
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 2));

    // Every leaf's proof verifies against the root.
    for index in 0..5 {
        let proof: ProofResponse =
            client.query_contract(bridge, &QueryMsg::Proof { batch_id: 1, index }).await.unwrap();
        assert!(proof.verify().unwrap(), "leaf {index}");
    }

    // The operators of two relayers (the threshold) record the EVM transaction.
    let tx_hash = format!("0x{}", "ab".repeat(32));
    for (operator, _) in &accounts::RELAYERS[..2] {
        let msg = ExecuteMsg::Confirm { batch_id: 1, evm_tx_hash: tx_hash.clone() };
        client.execute(&account(*operator), bridge, &msg, vec![]).await.unwrap();
    }
    let batch: BatchResponse = client.query_contract(bridge, &QueryMsg::Batch { batch_id: 1 }).await.unwrap();
    assert_eq!((batch.status, batch.evm_tx_hash), (BatchStatus::Confirmed, Some(tx_hash)));
    eprintln!("seal of 5 leaves: {} gas; attest: {attest_gas:?} gas", sealed.gas_used);
    network.stop().unwrap();
}

async fn admin_execute(client: &Client, admin: &Signer, bridge: &str, msg: &ExecuteMsg) {
    client.execute(admin, bridge, msg, vec![]).await.unwrap();
}
