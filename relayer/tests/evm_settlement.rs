//! ArenaSettlement and ArenaToken through alloy against a real anvil (chain id 84532).
//!
//! Trees come from the reference implementation (npm @openzeppelin/merkle-tree), digests from
//! alloy's EIP-712, signatures from anvil's dev keys. Every refusal asserts the concrete custom
//! error the contract reverts with.

mod support;

use alloy::primitives::{Address, Bytes, Signature, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use arena_evm::attest::{order_by_signer, sign_batch};
use arena_evm::bindings::ArenaSettlement::{self, ArenaSettlementErrors};
use arena_evm::bindings::ArenaToken::{self, ArenaTokenErrors};
use arena_evm::{Batch, BatchSource, ClaimLeaf, EvmClient, EvmConfig, EvmError, PostOutcome};
use arena_retry::{Classify, ErrorClass};
use support::{
    advance_time, config, dev_key, leaves, oz_tree, params, source, total, Fixture, OzTree, CHAIN_ID, TIMELOCK,
};

/// The settlement error inside `error`, or a panic naming what came instead.
fn settlement_error(error: EvmError) -> ArenaSettlementErrors {
    match error {
        EvmError::Settlement(e) => e,
        other => panic!("expected an ArenaSettlement custom error, got: {other}"),
    }
}

/// A batch header for `tree` over `leaves`, from the test contracts' source.
fn header(batch_id: u64, tree: &OzTree, leaves: &[ClaimLeaf]) -> Batch {
    Batch {
        sourceChain: source().chain,
        sourceBridge: source().bridge,
        batchId: batch_id,
        root: tree.root,
        total: total(leaves),
        count: leaves.len() as u32,
    }
}

/// The owner's attester change through the timelock: propose, wait the delay, execute.
async fn update_attesters(
    fx: &Fixture,
    add: &[Address],
    remove: &[Address],
    threshold: u32,
) -> Result<arena_evm::TxOutcome, EvmError> {
    fx.owner.propose_attester_update(add, remove, threshold).await?;
    advance_time(&fx.owner, TIMELOCK).await;
    fx.owner.execute_attester_update(add, remove, threshold).await
}

/// Signatures of `signers` over `batch`, ordered by signer as the contract wants.
fn signed(client: &EvmClient, batch: &Batch, signers: &[&PrivateKeySigner]) -> Vec<Signature> {
    let signatures: Vec<Signature> = signers.iter().map(|s| client.sign_batch(s, batch).unwrap()).collect();
    order_by_signer(client.batch_digest(batch), &signatures).unwrap()
}

/// Builds batch `batch_id` of `count` leaves and posts it with attesters 1 and 2.
async fn post(fx: &Fixture, batch_id: u64, count: u32) -> (Vec<ClaimLeaf>, OzTree) {
    let leaves = leaves(batch_id, count);
    let tree = oz_tree(&leaves);
    let batch = header(batch_id, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let outcome = fx.owner.post_batch(&batch, &signatures).await.unwrap();
    assert!(matches!(outcome, PostOutcome::Posted(_)), "{outcome:?}");
    (leaves, tree)
}

#[tokio::test]
async fn deployment_wires_token_to_settlement() {
    let fx = Fixture::new().await;
    let token = ArenaToken::new(fx.owner.token_address(), fx.owner.provider().clone());
    assert_eq!(token.settlement().call().await.unwrap(), fx.owner.settlement_address());
    assert_eq!(token.decimals().call().await.unwrap(), 6);
    assert_eq!(fx.owner.threshold().await.unwrap(), 2);
    for attester in &fx.attesters {
        assert!(fx.owner.is_attester(attester.address()).await.unwrap());
    }
    assert!(!fx.owner.is_attester(fx.owner.signer_address()).await.unwrap());
}

#[tokio::test]
async fn alloy_digest_equals_contract_digest() {
    let fx = Fixture::new().await;
    let settlement = ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider().clone());
    let batch = Batch {
        sourceChain: source().chain,
        sourceBridge: source().bridge,
        batchId: 9,
        root: B256::repeat_byte(0xab),
        total: U256::from(12_345u64),
        count: 3,
    };
    let on_chain = settlement.batchDigest(batch.batchId, batch.root, batch.total, batch.count).call().await.unwrap();
    assert_eq!(on_chain, fx.owner.batch_digest(&batch));
}

#[tokio::test]
async fn threshold_met_posts_the_batch_and_emits_batch_posted() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 5);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[2], &fx.attesters[0]]);
    assert!(!fx.owner.is_posted(1).await.unwrap());

    let PostOutcome::Posted(tx) = fx.owner.post_batch(&batch, &signatures).await.unwrap() else {
        panic!("expected this relayer to post");
    };

    assert!(fx.owner.is_posted(1).await.unwrap());
    let posted = fx.owner.batch(1).await.unwrap();
    assert_eq!((posted.root, posted.total, posted.claimed, posted.count), (tree.root, total(&leaves), U256::ZERO, 5));
    let posted_events: Vec<ArenaSettlement::BatchPosted> =
        events(&fx.owner, tx.tx_hash, fx.owner.settlement_address()).await;
    assert_eq!(
        posted_events,
        vec![ArenaSettlement::BatchPosted {
            batchId: 1,
            root: tree.root,
            total: total(&leaves),
            count: 5,
            poster: fx.owner.signer_address(),
        }]
    );
}

#[tokio::test]
async fn threshold_not_met_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 3);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InsufficientSignatures(ArenaSettlement::InsufficientSignatures {
            provided: U256::from(1),
            required: U256::from(2),
        })
    );
    assert!(!fx.owner.is_posted(1).await.unwrap());
}

#[tokio::test]
async fn non_attester_signature_is_refused() {
    let fx = Fixture::new().await;
    let outsider = dev_key(&fx.anvil, 5);
    let leaves = leaves(1, 3);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &outsider]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::UnknownAttester(ArenaSettlement::UnknownAttester { account: outsider.address() })
    );
}

#[tokio::test]
async fn duplicate_signer_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 3);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let one = fx.owner.sign_batch(&fx.attesters[0], &batch).unwrap();
    let error = fx.owner.post_batch(&batch, &[one, one]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::DuplicateSigner(ArenaSettlement::DuplicateSigner { signer: fx.attesters[0].address() })
    );
}

#[tokio::test]
async fn unsorted_signers_are_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 3);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let mut signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    signatures.reverse();
    let digest = fx.owner.batch_digest(&batch);
    let first = signatures[0].recover_address_from_prehash(&digest).unwrap();
    let second = signatures[1].recover_address_from_prehash(&digest).unwrap();
    assert!(first > second);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::SignersNotAscending(ArenaSettlement::SignersNotAscending {
            signer: second,
            previous: first,
        })
    );
}

#[tokio::test]
async fn malformed_signature_is_refused() {
    let fx = Fixture::new().await;
    let settlement = ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider().clone());
    let leaves = leaves(1, 2);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let good: Vec<Bytes> = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]])
        .iter()
        .map(|s| Bytes::from(s.as_bytes().to_vec()))
        .collect();
    // 64 bytes: a signature missing its v.
    let short = Bytes::from(good[1][..64].to_vec());
    let error = settlement
        .postBatch(
            batch.sourceChain,
            batch.sourceBridge,
            1,
            batch.root,
            batch.total,
            batch.count,
            vec![good[0].clone(), short],
        )
        .call()
        .await
        .unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaSettlementErrors>(),
        Some(ArenaSettlementErrors::InvalidSignature(ArenaSettlement::InvalidSignature { index: U256::from(1) }))
    );
}

#[tokio::test]
async fn signature_over_another_chain_recovers_a_non_attester() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 2);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let settlement = fx.owner.settlement_address();
    // Signed for Base mainnet (8453) instead of 84532: the digest differs, so the recovered
    // address is some unrelated key.
    let signatures: Vec<Signature> =
        fx.attesters[..2].iter().map(|a| sign_batch(a, 8453, settlement, &batch).unwrap()).collect();
    let ordered = order_by_signer(fx.owner.batch_digest(&batch), &signatures).unwrap();
    let error = fx.owner.post_batch(&batch, &ordered).await.unwrap_err();
    assert!(
        matches!(settlement_error(error), ArenaSettlementErrors::UnknownAttester(_)),
        "a signature for another chain must not count"
    );
}

#[tokio::test]
async fn replayed_batch_id_is_refused_by_the_contract_and_is_success_for_the_client() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 4, 3).await;
    let batch = header(4, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[1], &fx.attesters[2]]);

    // The contract refuses the batch id a second time...
    let settlement = ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider().clone());
    let raw: Vec<Bytes> = signatures.iter().map(|s| Bytes::from(s.as_bytes().to_vec())).collect();
    let error = settlement
        .postBatch(batch.sourceChain, batch.sourceBridge, 4, batch.root, batch.total, batch.count, raw)
        .call()
        .await
        .unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaSettlementErrors>(),
        Some(ArenaSettlementErrors::BatchAlreadyPosted(ArenaSettlement::BatchAlreadyPosted { batchId: 4 }))
    );
    // ...which a relayer that lost the race takes as done.
    let other = fx.client(2).await;
    assert_eq!(other.post_batch(&batch, &signatures).await.unwrap(), PostOutcome::AlreadyPosted);
}

#[tokio::test]
async fn batch_id_posted_with_another_root_is_a_conflict() {
    let fx = Fixture::new().await;
    let (_, posted_tree) = post(&fx, 4, 3).await;
    let other_leaves = leaves(4, 4);
    let other_tree = oz_tree(&other_leaves);
    let batch = header(4, &other_tree, &other_leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Refused);
    match error {
        EvmError::ConflictingBatch { batch_id, posted, ours } => {
            assert_eq!((batch_id, posted, ours), (4, posted_tree.root, other_tree.root));
        }
        other => panic!("expected ConflictingBatch, got: {other}"),
    }
}

#[tokio::test]
async fn racing_relayers_post_once_and_both_succeed() {
    let fx = Fixture::new().await;
    let leaves = leaves(6, 8);
    let tree = oz_tree(&leaves);
    let batch = header(6, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[2]]);
    let (a, b) = (fx.client(1).await, fx.client(2).await);
    let (ra, rb) = tokio::join!(a.post_batch(&batch, &signatures), b.post_batch(&batch, &signatures));
    let outcomes = [ra.unwrap(), rb.unwrap()];
    let posted = outcomes.iter().filter(|o| matches!(o, PostOutcome::Posted(_))).count();
    let already = outcomes.iter().filter(|o| **o == PostOutcome::AlreadyPosted).count();
    assert_eq!((posted, already), (1, 1), "{outcomes:?}");
}

#[tokio::test]
async fn claims_mint_each_leaf_to_its_recipient() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 2, 7).await;
    // Anyone may send a claim; the tokens go to the leaf's recipient.
    let sender = fx.client(6).await;
    for (leaf, proof) in leaves.iter().zip(&tree.proofs) {
        assert!(!sender.is_claimed(2, leaf.index).await.unwrap());
        sender.claim(leaf, proof).await.unwrap();
        assert!(sender.is_claimed(2, leaf.index).await.unwrap());
        assert_eq!(sender.balance_of(leaf.recipient).await.unwrap(), leaf.amount);
    }
    assert_eq!(sender.balance_of(sender.signer_address()).await.unwrap(), U256::ZERO);
    assert_eq!(fx.owner.batch(2).await.unwrap().claimed, total(&leaves));
}

#[tokio::test]
async fn bad_proof_is_refused() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 3, 4).await;
    // Leaf 0 with leaf 1's proof.
    let error = fx.owner.claim(&leaves[0], &tree.proofs[1]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InvalidProof(ArenaSettlement::InvalidProof { batchId: 3, index: 0 })
    );
}

#[tokio::test]
async fn wrong_amount_is_refused() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 3, 4).await;
    let inflated = ClaimLeaf { amount: leaves[2].amount + U256::from(1), ..leaves[2] };
    let error = fx.owner.claim(&inflated, &tree.proofs[2]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InvalidProof(ArenaSettlement::InvalidProof { batchId: 3, index: 2 })
    );
    assert_eq!(fx.owner.balance_of(leaves[2].recipient).await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn double_claim_is_refused() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 3, 4).await;
    fx.owner.claim(&leaves[1], &tree.proofs[1]).await.unwrap();
    let error = fx.owner.claim(&leaves[1], &tree.proofs[1]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::AlreadyClaimed(ArenaSettlement::AlreadyClaimed { batchId: 3, index: 1 })
    );
    assert_eq!(fx.owner.balance_of(leaves[1].recipient).await.unwrap(), leaves[1].amount);
}

#[tokio::test]
async fn claim_on_unposted_batch_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(8, 2);
    let tree = oz_tree(&leaves);
    let error = fx.owner.claim(&leaves[0], &tree.proofs[0]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::BatchNotPosted(ArenaSettlement::BatchNotPosted { batchId: 8 })
    );
}

#[tokio::test]
async fn claims_beyond_the_signed_total_are_refused() {
    let fx = Fixture::new().await;
    // Attesters that signed a total below the sum of the leaves: the contract still never pays
    // more than the total.
    let leaves = leaves(5, 2);
    let tree = oz_tree(&leaves);
    let short_total = leaves[0].amount + leaves[1].amount - U256::from(1);
    let batch = Batch { total: short_total, ..header(5, &tree, &leaves) };
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    fx.owner.post_batch(&batch, &signatures).await.unwrap();
    fx.owner.claim(&leaves[0], &tree.proofs[0]).await.unwrap();
    let error = fx.owner.claim(&leaves[1], &tree.proofs[1]).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::ClaimExceedsTotal(ArenaSettlement::ClaimExceedsTotal {
            batchId: 5,
            amount: leaves[1].amount,
            remaining: leaves[1].amount - U256::from(1),
        })
    );
}

#[tokio::test]
async fn only_the_settlement_can_mint() {
    let fx = Fixture::new().await;
    let outsider = fx.client(4).await;
    let token = ArenaToken::new(outsider.token_address(), outsider.provider().clone());
    let error = token.mint(outsider.signer_address(), U256::from(1)).send().await.unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaTokenErrors>(),
        Some(ArenaTokenErrors::OnlySettlement(ArenaToken::OnlySettlement { caller: outsider.signer_address() }))
    );
    // Not even the settlement's owner.
    let owner = fx.owner.signer_address();
    let error = token.mint(owner, U256::from(1)).from(owner).call().await.unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaTokenErrors>(),
        Some(ArenaTokenErrors::OnlySettlement(ArenaToken::OnlySettlement { caller: owner }))
    );
    assert_eq!(outsider.balance_of(outsider.signer_address()).await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn non_owner_cannot_propose_attester_changes() {
    let fx = Fixture::new().await;
    let attester = fx.client(1).await;
    let newcomer = dev_key(&fx.anvil, 7).address();
    let error = attester.propose_attester_update(&[newcomer], &[], 2).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::OwnableUnauthorizedAccount(ArenaSettlement::OwnableUnauthorizedAccount {
            account: attester.signer_address(),
        })
    );
    assert!(!fx.owner.is_attester(newcomer).await.unwrap());
}

#[tokio::test]
async fn owner_rotates_attesters_and_threshold() {
    let fx = Fixture::new().await;
    let newcomer = dev_key(&fx.anvil, 7);
    let removed = fx.attesters[0].address();
    update_attesters(&fx, &[newcomer.address()], &[removed], 3).await.unwrap();
    assert!(fx.owner.is_attester(newcomer.address()).await.unwrap());
    assert!(!fx.owner.is_attester(removed).await.unwrap());
    assert_eq!(fx.owner.threshold().await.unwrap(), 3);

    // The removed attester no longer counts; the new set posts with all three.
    let leaves = leaves(1, 2);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let stale = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1], &fx.attesters[2]]);
    let error = fx.owner.post_batch(&batch, &stale).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::UnknownAttester(ArenaSettlement::UnknownAttester { account: removed })
    );
    let fresh = signed(&fx.owner, &batch, &[&newcomer, &fx.attesters[1], &fx.attesters[2]]);
    assert!(matches!(fx.owner.post_batch(&batch, &fresh).await.unwrap(), PostOutcome::Posted(_)));
}

#[tokio::test]
async fn threshold_above_the_attester_count_is_refused() {
    let fx = Fixture::new().await;
    let error = update_attesters(&fx, &[], &[], 4).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InvalidThreshold(ArenaSettlement::InvalidThreshold {
            threshold: U256::from(4),
            attesterCount: U256::from(3),
        })
    );
}

#[tokio::test]
async fn zero_threshold_is_refused() {
    let fx = Fixture::new().await;
    let error = update_attesters(&fx, &[], &[], 0).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InvalidThreshold(ArenaSettlement::InvalidThreshold {
            threshold: U256::ZERO,
            attesterCount: U256::from(3),
        })
    );
}

#[tokio::test]
async fn registering_an_attester_twice_is_refused() {
    let fx = Fixture::new().await;
    let existing = fx.attesters[1].address();
    let error = update_attesters(&fx, &[existing], &[], 2).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::AttesterAlreadyRegistered(ArenaSettlement::AttesterAlreadyRegistered {
            account: existing
        })
    );
}

#[tokio::test]
async fn deploying_with_a_threshold_above_the_set_is_refused() {
    let anvil = support::spawn_anvil();
    let deployer = dev_key(&anvil, 0);
    let params = params(deployer.address(), vec![dev_key(&anvil, 1).address()], 2);
    let error = EvmClient::deploy(config(&anvil), deployer, &params).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::InvalidThreshold(ArenaSettlement::InvalidThreshold {
            threshold: U256::from(2),
            attesterCount: U256::from(1),
        })
    );
}

#[tokio::test]
async fn connecting_to_the_wrong_chain_is_refused() {
    let fx = Fixture::new().await;
    let config = EvmConfig::new(fx.anvil.endpoint(), 8453);
    let error = EvmClient::connect(config, dev_key(&fx.anvil, 1), fx.owner.settlement_address()).await.unwrap_err();
    assert!(matches!(error, EvmError::WrongChain { expected: 8453, actual: CHAIN_ID }), "{error}");
    assert_eq!(error.class(), ErrorClass::Fatal, "a wrong chain needs an operator");
}

#[tokio::test]
async fn unreachable_node_is_a_transient_error() {
    // Start an anvil to learn a free port, then stop it: nothing listens there any more.
    let endpoint = support::spawn_anvil().endpoint();
    let error = EvmClient::connect(EvmConfig::new(endpoint, CHAIN_ID), PrivateKeySigner::random(), Address::ZERO)
        .await
        .unwrap_err();
    assert!(matches!(error, EvmError::Rpc(_)), "{error}");
    assert!(error.is_transient(), "{error}");
}

#[tokio::test]
async fn a_send_refused_at_estimation_does_not_block_the_next_one() {
    let fx = Fixture::new().await;
    let leaves = leaves(3, 2);
    let tree = oz_tree(&leaves);
    // Refused before broadcast: no transaction, so no nonce may be used up.
    fx.owner.claim(&leaves[0], &tree.proofs[0]).await.unwrap_err();
    // The same key's next transactions land.
    post(&fx, 3, 2).await;
    fx.owner.claim(&leaves[0], &tree.proofs[0]).await.unwrap();
    assert_eq!(fx.owner.balance_of(leaves[0].recipient).await.unwrap(), leaves[0].amount);
}

#[tokio::test]
async fn receipts_wait_for_the_confirmation_depth() {
    // Blocks every second, as on a real chain, instead of one block per transaction.
    let anvil = alloy::node_bindings::Anvil::at(support::anvil_path()).chain_id(CHAIN_ID).block_time(1).spawn();
    let deployer = dev_key(&anvil, 0);
    let attesters: Vec<PrivateKeySigner> = (1..=2).map(|i| dev_key(&anvil, i)).collect();
    let params = params(deployer.address(), attesters.iter().map(|a| a.address()).collect(), 2);
    let deep = EvmConfig { confirmations: 3, ..config(&anvil) };
    let (client, deployment) = EvmClient::deploy(deep, deployer, &params).await.unwrap();
    assert!(client.block_number().await.unwrap() >= deployment.tx.block_number + 2);

    let leaves = leaves(1, 2);
    let tree = oz_tree(&leaves);
    let batch = header(1, &tree, &leaves);
    let signatures = signed(&client, &batch, &[&attesters[0], &attesters[1]]);
    let PostOutcome::Posted(tx) = client.post_batch(&batch, &signatures).await.unwrap() else {
        panic!("expected this relayer to post");
    };
    assert!(client.block_number().await.unwrap() >= tx.block_number + 2);
}

// Scenario 8 of issue 11: batch ids restart at 1 in every bridge; a contract deployed for one
// bridge must refuse the batches of any other, even when the same attesters signed them.
#[tokio::test]
async fn a_batch_of_another_source_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 2);
    let tree = oz_tree(&leaves);
    let other = BatchSource::new("arena-local-1", "inj1anotherbridge");
    let batch = Batch { sourceChain: other.chain, sourceBridge: other.bridge, ..header(1, &tree, &leaves) };
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::WrongSource(ArenaSettlement::WrongSource {
            sourceChain: other.chain,
            sourceBridge: other.bridge,
            expectedChain: source().chain,
            expectedBridge: source().bridge,
        })
    );
    // Claiming the source's own batch 1 under the other's signatures fails too: they sign another digest.
    let ours = header(1, &tree, &leaves);
    let error = fx.owner.post_batch(&ours, &signatures).await.unwrap_err();
    assert!(matches!(settlement_error(error), ArenaSettlementErrors::UnknownAttester(_)));
    assert!(!fx.owner.is_posted(1).await.unwrap());
    assert_eq!(fx.owner.source().await.unwrap(), source());
}

// Scenario 9 of issue 11: the owner could replace the attesters by its own key at threshold 1 in
// one transaction. Now a change waits the timelock, announced by event.
#[tokio::test]
async fn attester_changes_wait_for_the_timelock() {
    let fx = Fixture::new().await;
    let owner_key = fx.owner.signer_address();
    let all: Vec<Address> = fx.attesters.iter().map(|a| a.address()).collect();
    let proposal = fx.owner.propose_attester_update(&[owner_key], &all, 1).await.unwrap();
    let proposed: Vec<ArenaSettlement::AttesterUpdateProposed> =
        events(&fx.owner, proposal.tx_hash, fx.owner.settlement_address()).await;
    assert_eq!(proposed.len(), 1);
    assert_eq!(
        (proposed[0].add.clone(), proposed[0].remove.clone(), proposed[0].newThreshold),
        (vec![owner_key], all.clone(), 1)
    );
    let ready_at = proposed[0].readyAt;

    // At once, and one second before the delay ends: refused, and the set is unchanged.
    let error = fx.owner.execute_attester_update(&[owner_key], &all, 1).await.unwrap_err();
    assert!(
        matches!(settlement_error(error), ArenaSettlementErrors::ProposalNotReady(ref e) if e.readyAt == ready_at),
        "executed before its delay"
    );
    advance_time(&fx.owner, TIMELOCK - 5).await;
    assert!(fx.owner.execute_attester_update(&[owner_key], &all, 1).await.is_err());
    assert!(fx.owner.is_attester(all[0]).await.unwrap());
    assert_eq!(fx.owner.threshold().await.unwrap(), 2);

    advance_time(&fx.owner, 5).await;
    fx.owner.execute_attester_update(&[owner_key], &all, 1).await.unwrap();
    assert!(fx.owner.is_attester(owner_key).await.unwrap());
    assert_eq!(fx.owner.threshold().await.unwrap(), 1);
    // Executed once: the proposal is gone.
    let error = fx.owner.execute_attester_update(&[owner_key], &all, 1).await.unwrap_err();
    assert!(matches!(settlement_error(error), ArenaSettlementErrors::UnknownProposal(_)));
}

#[tokio::test]
async fn an_unproposed_or_cancelled_change_cannot_be_executed() {
    let fx = Fixture::new().await;
    let newcomer = dev_key(&fx.anvil, 7).address();
    let error = fx.owner.execute_attester_update(&[newcomer], &[], 2).await.unwrap_err();
    assert!(matches!(settlement_error(error), ArenaSettlementErrors::UnknownProposal(_)));

    fx.owner.propose_attester_update(&[newcomer], &[], 2).await.unwrap();
    let settlement = ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider().clone());
    let id = settlement.attesterUpdateId(vec![newcomer], vec![], 2).call().await.unwrap();
    assert!(settlement.proposalReadyAt(id).call().await.unwrap() > U256::ZERO);
    settlement.cancelAttesterUpdate(id).send().await.unwrap().get_receipt().await.unwrap();
    advance_time(&fx.owner, TIMELOCK).await;
    let error = fx.owner.execute_attester_update(&[newcomer], &[], 2).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::UnknownProposal(ArenaSettlement::UnknownProposal { id })
    );
    assert!(!fx.owner.is_attester(newcomer).await.unwrap());
}

// Scenario 9 of issue 11: a threshold of attester keys could make any amount claimable at once.
// Posted totals are capped per period; a batch over the allowance waits for the next period.
#[tokio::test]
async fn posts_beyond_the_period_cap_wait_for_the_next_period() {
    // Batches of 2 leaves total 2,000,001; the cap lets one through per period, not two.
    let fx = Fixture::with_params(support::spawn_anvil(), |p| SettlementParamsCap::cap(p, 3_000_000)).await;
    post(&fx, 1, 2).await;
    let allowance = fx.owner.mint_allowance().await.unwrap();
    assert_eq!(allowance.remaining, U256::from(3_000_000u64 - 2_000_001));

    let leaves = leaves(2, 2);
    let tree = oz_tree(&leaves);
    let batch = header(2, &tree, &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert!(error.is_transient(), "a post over the allowance is retried later: {error}");
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::MintRateExceeded(ArenaSettlement::MintRateExceeded {
            batchId: 2,
            total: total(&leaves),
            remaining: allowance.remaining,
            periodEndsAt: allowance.period_ends_at,
        })
    );
    assert!(!fx.owner.is_posted(2).await.unwrap());

    // The next period: the same signatures post it.
    let now = fx.owner.provider().get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp;
    advance_time(&fx.owner, allowance.period_ends_at.to::<u64>() - now).await;
    assert!(matches!(fx.owner.post_batch(&batch, &signatures).await.unwrap(), PostOutcome::Posted(_)));
    assert_eq!(fx.owner.mint_allowance().await.unwrap().remaining, U256::from(3_000_000u64 - 2_000_001));
}

/// Sets the mint cap of deployment parameters.
struct SettlementParamsCap;

impl SettlementParamsCap {
    fn cap(params: arena_evm::SettlementParams, cap: u128) -> arena_evm::SettlementParams {
        arena_evm::SettlementParams { mint_cap_per_period: cap, ..params }
    }
}

/// The `E` events of transaction `tx_hash` emitted by `emitter`, in log order.
async fn events<E: alloy::sol_types::SolEvent>(client: &EvmClient, tx_hash: B256, emitter: Address) -> Vec<E> {
    let receipt = client.provider().get_transaction_receipt(tx_hash).await.unwrap().expect("a mined transaction");
    receipt
        .inner
        .logs()
        .iter()
        .filter(|log| log.address() == emitter)
        .filter_map(|log| log.log_decode::<E>().ok())
        .map(|log| log.inner.data)
        .collect()
}

/// How many logs transaction `tx_hash` emitted in all.
async fn log_count(client: &EvmClient, tx_hash: B256) -> usize {
    client.provider().get_transaction_receipt(tx_hash).await.unwrap().unwrap().inner.logs().len()
}

#[tokio::test]
async fn an_empty_root_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 2);
    let batch = Batch { root: B256::ZERO, ..header(1, &oz_tree(&leaves), &leaves) };
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(settlement_error(error), ArenaSettlementErrors::EmptyRoot(ArenaSettlement::EmptyRoot { batchId: 1 }));
    assert!(!fx.owner.is_posted(1).await.unwrap());
}

#[tokio::test]
async fn a_total_above_uint112_is_refused() {
    let fx = Fixture::new().await;
    let leaves = leaves(1, 2);
    let too_large = U256::from(1) << 112;
    let batch = Batch { total: too_large, ..header(1, &oz_tree(&leaves), &leaves) };
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::TotalTooLarge(ArenaSettlement::TotalTooLarge { total: too_large })
    );
    // uint112's largest value is no TotalTooLarge (the mint cap stops it instead).
    let batch = Batch { total: too_large - U256::from(1), ..batch };
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let error = fx.owner.post_batch(&batch, &signatures).await.unwrap_err();
    assert!(matches!(settlement_error(error), ArenaSettlementErrors::MintRateExceeded(_)));
    assert!(!fx.owner.is_posted(1).await.unwrap());
}

#[tokio::test]
async fn the_zero_address_cannot_become_an_attester() {
    let fx = Fixture::new().await;
    let error = update_attesters(&fx, &[Address::ZERO], &[], 2).await.unwrap_err();
    assert_eq!(settlement_error(error), ArenaSettlementErrors::ZeroAttester(ArenaSettlement::ZeroAttester {}));
    assert_eq!(
        ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider()).attesterCount().call().await.unwrap(),
        3
    );

    // Nor at deployment.
    let anvil = support::spawn_anvil();
    let deployer = dev_key(&anvil, 0);
    let params = params(deployer.address(), vec![dev_key(&anvil, 1).address(), Address::ZERO], 1);
    let error = EvmClient::deploy(config(&anvil), deployer, &params).await.unwrap_err();
    assert_eq!(settlement_error(error), ArenaSettlementErrors::ZeroAttester(ArenaSettlement::ZeroAttester {}));
}

#[tokio::test]
async fn removing_an_unknown_attester_is_refused_and_changes_nothing() {
    let fx = Fixture::new().await;
    let stranger = dev_key(&fx.anvil, 8).address();
    let newcomer = dev_key(&fx.anvil, 7).address();
    // Removals apply first; the stranger's refusal undoes the valid removal before it too.
    let error = update_attesters(&fx, &[newcomer], &[fx.attesters[0].address(), stranger], 2).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::UnknownAttester(ArenaSettlement::UnknownAttester { account: stranger })
    );
    assert!(fx.owner.is_attester(fx.attesters[0].address()).await.unwrap());
    assert!(!fx.owner.is_attester(newcomer).await.unwrap());
    // Removing one twice in one change: the second is unknown by then.
    let twice = fx.attesters[2].address();
    let error = update_attesters(&fx, &[], &[twice, twice], 1).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::UnknownAttester(ArenaSettlement::UnknownAttester { account: twice })
    );
    assert!(fx.owner.is_attester(twice).await.unwrap());
}

#[tokio::test]
async fn ownership_moves_in_two_steps_with_events() {
    let fx = Fixture::new().await;
    let settlement_address = fx.owner.settlement_address();
    let settlement = ArenaSettlement::new(settlement_address, fx.owner.provider().clone());
    let (old, new) = (fx.owner.signer_address(), dev_key(&fx.anvil, 5).address());
    let newcomer = dev_key(&fx.anvil, 7).address();

    // Only the owner may start a transfer.
    let outsider = fx.client(6).await;
    let as_outsider = ArenaSettlement::new(settlement_address, outsider.provider().clone());
    let error = as_outsider.transferOwnership(new).send().await.unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaSettlementErrors>(),
        Some(ArenaSettlementErrors::OwnableUnauthorizedAccount(ArenaSettlement::OwnableUnauthorizedAccount {
            account: outsider.signer_address(),
        }))
    );

    let started = settlement.transferOwnership(new).send().await.unwrap().get_receipt().await.unwrap();
    let logged: Vec<ArenaSettlement::OwnershipTransferStarted> =
        events(&fx.owner, started.transaction_hash, settlement_address).await;
    assert_eq!(logged, vec![ArenaSettlement::OwnershipTransferStarted { previousOwner: old, newOwner: new }]);
    // Started is not done: the old owner still rules, the new one is pending.
    assert_eq!(settlement.owner().call().await.unwrap(), old);
    assert_eq!(settlement.pendingOwner().call().await.unwrap(), new);

    // Nobody but the pending owner may accept.
    let error = as_outsider.acceptOwnership().send().await.unwrap_err();
    assert!(matches!(
        error.as_decoded_interface_error::<ArenaSettlementErrors>(),
        Some(ArenaSettlementErrors::OwnableUnauthorizedAccount(_))
    ));
    let heir = fx.client(5).await;
    let as_heir = ArenaSettlement::new(settlement_address, heir.provider().clone());
    let accepted = as_heir.acceptOwnership().send().await.unwrap().get_receipt().await.unwrap();
    let logged: Vec<ArenaSettlement::OwnershipTransferred> =
        events(&fx.owner, accepted.transaction_hash, settlement_address).await;
    assert_eq!(logged, vec![ArenaSettlement::OwnershipTransferred { previousOwner: old, newOwner: new }]);
    assert_eq!(settlement.owner().call().await.unwrap(), new);
    assert_eq!(settlement.pendingOwner().call().await.unwrap(), Address::ZERO);

    // The old owner lost the attester set; the new one has it.
    let error = fx.owner.propose_attester_update(&[newcomer], &[], 2).await.unwrap_err();
    assert_eq!(
        settlement_error(error),
        ArenaSettlementErrors::OwnableUnauthorizedAccount(ArenaSettlement::OwnableUnauthorizedAccount { account: old })
    );
    heir.propose_attester_update(&[newcomer], &[], 2).await.unwrap();
    advance_time(&heir, TIMELOCK).await;
    heir.execute_attester_update(&[newcomer], &[], 2).await.unwrap();
    assert!(heir.is_attester(newcomer).await.unwrap());
}

#[tokio::test]
async fn deployment_emits_owner_attesters_and_threshold() {
    let anvil = support::spawn_anvil();
    let deployer = dev_key(&anvil, 0);
    let attesters: Vec<Address> = (1..=3).map(|i| dev_key(&anvil, i).address()).collect();
    let params = params(deployer.address(), attesters.clone(), 2);
    let (client, deployment) = EvmClient::deploy(config(&anvil), deployer, &params).await.unwrap();
    let tx = deployment.tx.tx_hash;
    let at = deployment.settlement;
    assert_eq!(
        events::<ArenaSettlement::OwnershipTransferred>(&client, tx, at).await,
        vec![ArenaSettlement::OwnershipTransferred { previousOwner: Address::ZERO, newOwner: params.owner }]
    );
    let added: Vec<Address> =
        events::<ArenaSettlement::AttesterAdded>(&client, tx, at).await.into_iter().map(|e| e.attester).collect();
    assert_eq!(added, attesters);
    assert_eq!(
        events::<ArenaSettlement::ThresholdChanged>(&client, tx, at).await,
        vec![ArenaSettlement::ThresholdChanged { previous: 0, current: 2 }]
    );
    // Nothing else: 1 + 3 + 1 logs (the token's constructor emits none).
    assert_eq!(log_count(&client, tx).await, 5);
}

#[tokio::test]
async fn an_executed_change_emits_each_removal_addition_and_the_threshold() {
    let fx = Fixture::new().await;
    let at = fx.owner.settlement_address();
    let settlement = ArenaSettlement::new(at, fx.owner.provider().clone());
    let (a, b) = (dev_key(&fx.anvil, 7).address(), dev_key(&fx.anvil, 8).address());
    let removed = [fx.attesters[0].address(), fx.attesters[2].address()];
    let id = settlement.attesterUpdateId(vec![a, b], removed.to_vec(), 3).call().await.unwrap();

    let proposed = fx.owner.propose_attester_update(&[a, b], &removed, 3).await.unwrap();
    let block = fx.owner.provider().get_block_by_number(proposed.block_number.into()).await.unwrap().unwrap();
    assert_eq!(
        events::<ArenaSettlement::AttesterUpdateProposed>(&fx.owner, proposed.tx_hash, at).await,
        vec![ArenaSettlement::AttesterUpdateProposed {
            id,
            add: vec![a, b],
            remove: removed.to_vec(),
            newThreshold: 3,
            readyAt: U256::from(block.header.timestamp + TIMELOCK),
        }]
    );
    advance_time(&fx.owner, TIMELOCK).await;
    let executed = fx.owner.execute_attester_update(&[a, b], &removed, 3).await.unwrap();
    let tx = executed.tx_hash;
    let gone: Vec<Address> =
        events::<ArenaSettlement::AttesterRemoved>(&fx.owner, tx, at).await.into_iter().map(|e| e.attester).collect();
    assert_eq!(gone, removed.to_vec());
    let added: Vec<Address> =
        events::<ArenaSettlement::AttesterAdded>(&fx.owner, tx, at).await.into_iter().map(|e| e.attester).collect();
    assert_eq!(added, vec![a, b]);
    assert_eq!(
        events::<ArenaSettlement::ThresholdChanged>(&fx.owner, tx, at).await,
        vec![ArenaSettlement::ThresholdChanged { previous: 2, current: 3 }]
    );
    assert_eq!(
        events::<ArenaSettlement::AttesterUpdateExecuted>(&fx.owner, tx, at).await,
        vec![ArenaSettlement::AttesterUpdateExecuted { id }]
    );
    assert_eq!(log_count(&fx.owner, tx).await, 2 + 2 + 1 + 1);
    assert_eq!(settlement.attesterCount().call().await.unwrap(), 3);
}

#[tokio::test]
async fn a_cancelled_change_emits_its_id() {
    let fx = Fixture::new().await;
    let at = fx.owner.settlement_address();
    let settlement = ArenaSettlement::new(at, fx.owner.provider().clone());
    let newcomer = dev_key(&fx.anvil, 7).address();
    fx.owner.propose_attester_update(&[newcomer], &[], 2).await.unwrap();
    let id = settlement.attesterUpdateId(vec![newcomer], vec![], 2).call().await.unwrap();
    let cancelled = settlement.cancelAttesterUpdate(id).send().await.unwrap().get_receipt().await.unwrap();
    assert_eq!(
        events::<ArenaSettlement::AttesterUpdateCancelled>(&fx.owner, cancelled.transaction_hash, at).await,
        vec![ArenaSettlement::AttesterUpdateCancelled { id }]
    );
    assert_eq!(settlement.proposalReadyAt(id).call().await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn a_claim_emits_claimed_and_the_tokens_mint_transfer() {
    let fx = Fixture::new().await;
    let (leaves, tree) = post(&fx, 2, 3).await;
    let sender = fx.client(6).await;
    let leaf = &leaves[1];
    let outcome = sender.claim(leaf, &tree.proofs[1]).await.unwrap();
    assert_eq!(
        events::<ArenaSettlement::Claimed>(&sender, outcome.tx_hash, sender.settlement_address()).await,
        vec![ArenaSettlement::Claimed { batchId: 2, index: 1, recipient: leaf.recipient, amount: leaf.amount }]
    );
    assert_eq!(
        events::<ArenaToken::Transfer>(&sender, outcome.tx_hash, sender.token_address()).await,
        vec![ArenaToken::Transfer { from: Address::ZERO, to: leaf.recipient, value: leaf.amount }]
    );
    assert_eq!(log_count(&sender, outcome.tx_hash).await, 2);
}

#[tokio::test]
async fn eip712_domain_names_the_contract_and_the_chain() {
    let fx = Fixture::new().await;
    let at = fx.owner.settlement_address();
    let settlement = ArenaSettlement::new(at, fx.owner.provider().clone());
    let domain = settlement.eip712Domain().call().await.unwrap();
    // ERC-5267: 0x0f = name, version, chainId and verifyingContract are set; no salt, no extensions.
    assert_eq!(domain.fields.0, [0x0f]);
    assert_eq!((domain.name.as_str(), domain.version.as_str()), ("ArenaSettlement", "1"));
    assert_eq!((domain.chainId, domain.verifyingContract), (U256::from(CHAIN_ID), at));
    assert_eq!((domain.salt, domain.extensions.len()), (B256::ZERO, 0));
    // The same domain the relayer signs under.
    let ours = arena_evm::attest::settlement_domain(CHAIN_ID, at);
    assert_eq!(ours.name.as_deref(), Some(domain.name.as_str()));
    assert_eq!(ours.version.as_deref(), Some(domain.version.as_str()));
    assert_eq!((ours.chain_id, ours.verifying_contract), (Some(domain.chainId), Some(at)));
}

#[tokio::test]
async fn a_high_s_signature_is_refused_though_it_recovers_an_attester() {
    let fx = Fixture::new().await;
    let settlement = ArenaSettlement::new(fx.owner.settlement_address(), fx.owner.provider().clone());
    let leaves = leaves(1, 2);
    let batch = header(1, &oz_tree(&leaves), &leaves);
    let digest = fx.owner.batch_digest(&batch);
    let good = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);

    // The malleated twin of the second signature: s' = n - s, the parity flipped.
    let n = U256::from_str_radix("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16).unwrap();
    let original = good[1];
    let twin = Signature::new(original.r(), n - original.s(), !original.v());
    assert!(twin.s() > n >> 1, "the twin's s is in the upper half");
    let twin_bytes = Bytes::from(twin.as_bytes().to_vec());
    // Plain ecrecover (the precompile) gives the same attester for both.
    let precompile = fx
        .owner
        .provider()
        .call(
            alloy::rpc::types::TransactionRequest::default().to(Address::with_last_byte(1)).input(
                [digest.as_slice(), &B256::left_padding_from(&[27 + twin.v() as u8])[..], &twin_bytes[..64]]
                    .concat()
                    .into(),
            ),
        )
        .await
        .unwrap();
    let signer = original.recover_address_from_prehash(&digest).unwrap();
    assert_eq!(&precompile[12..], signer.as_slice(), "ecrecover accepts the twin");

    let bytes = |s: &Signature| Bytes::from(s.as_bytes().to_vec());
    let error = settlement
        .postBatch(
            batch.sourceChain,
            batch.sourceBridge,
            1,
            batch.root,
            batch.total,
            batch.count,
            vec![bytes(&good[0]), twin_bytes],
        )
        .call()
        .await
        .unwrap_err();
    assert_eq!(
        error.as_decoded_interface_error::<ArenaSettlementErrors>(),
        Some(ArenaSettlementErrors::InvalidSignature(ArenaSettlement::InvalidSignature { index: U256::from(1) }))
    );
    // The canonical pair posts.
    assert!(matches!(fx.owner.post_batch(&batch, &good).await.unwrap(), PostOutcome::Posted(_)));
}

/// Mines `blocks` empty blocks.
async fn mine(client: &EvmClient, blocks: u64) {
    let _: serde_json::Value = client.provider().raw_request("anvil_mine".into(), (blocks,)).await.unwrap();
}

// The relayer finds a batch's BatchPosted log by scanning back from the head in windows of
// `log_block_range` blocks down to `log_from_block` (settle::find_batch_posted).
#[tokio::test]
async fn the_log_window_scan_finds_a_post_many_windows_back_and_stops_at_its_floor() {
    use arena_relayer::settle::find_batch_posted;
    let fx = Fixture::new().await;
    mine(&fx.owner, 5).await;
    let leaves = leaves(3, 2);
    let batch = header(3, &oz_tree(&leaves), &leaves);
    let signatures = signed(&fx.owner, &batch, &[&fx.attesters[0], &fx.attesters[1]]);
    let PostOutcome::Posted(posted) = fx.owner.post_batch(&batch, &signatures).await.unwrap() else {
        panic!("expected this client to post");
    };
    let at = posted.block_number;
    // 40 blocks after the post: the log is in the 14th window of 3 blocks back from the head.
    mine(&fx.owner, 40).await;
    let head = fx.owner.block_number().await.unwrap();
    assert_eq!(head, at + 40);

    for range in [1, 3, 7, 1_000] {
        let found = find_batch_posted(&fx.owner, 3, 0, range).await.unwrap();
        assert_eq!(found, Some((posted.tx_hash, at)), "window of {range} blocks");
    }
    // The floor is inclusive: from the post's own block it is found, from the next it is not.
    assert_eq!(find_batch_posted(&fx.owner, 3, at, 3).await.unwrap(), Some((posted.tx_hash, at)));
    assert_eq!(find_batch_posted(&fx.owner, 3, at + 1, 3).await.unwrap(), None);
    // Another batch id's topic matches nothing, whatever the window.
    assert_eq!(find_batch_posted(&fx.owner, 4, 0, 5).await.unwrap(), None);
    // A floor above the head (a config written for a longer chain) finds nothing rather than failing.
    assert_eq!(find_batch_posted(&fx.owner, 3, head + 10, 3).await.unwrap(), None);
}
