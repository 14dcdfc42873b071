//! Batch attestations: the EIP-712 digest relayers sign, and the signature order `postBatch` wants.
//!
//! The digest is computed by alloy's own EIP-712 implementation from the `sol!` struct below, so it
//! is an independent reference for the contract's `batchDigest` view and for the bridge's digest in
//! `arena_types`.

use alloy::primitives::{Address, Signature, B256};
use alloy::signers::{local::PrivateKeySigner, SignerSync};
use alloy::sol;
use alloy::sol_types::{eip712_domain, Eip712Domain, SolStruct};

use crate::EvmError;

sol! {
    /// The EIP-712 struct attesters sign: `Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64
    /// batchId,bytes32 root,uint256 total,uint32 count)`.
    #[derive(Debug, PartialEq, Eq)]
    struct Batch {
        /// keccak256 of the Cosmos chain id the bridge runs on.
        bytes32 sourceChain;
        /// keccak256 of the bridge contract's bech32 address.
        bytes32 sourceBridge;
        /// Sequential id the bridge gave the batch.
        uint64 batchId;
        /// Root of the batch's StandardMerkleTree.
        bytes32 root;
        /// Sum of the leaf amounts.
        uint256 total;
        /// Number of leaves.
        uint32 count;
    }
}

/// The domain the settlement contract at `settlement` on chain `chain_id` verifies against:
/// name "ArenaSettlement", version "1".
pub fn settlement_domain(chain_id: u64, settlement: Address) -> Eip712Domain {
    eip712_domain! {
        name: "ArenaSettlement",
        version: "1",
        chain_id: chain_id,
        verifying_contract: settlement,
    }
}

/// The EIP-712 digest of `batch` for the settlement contract at `settlement` on chain `chain_id`.
pub fn batch_digest(chain_id: u64, settlement: Address, batch: &Batch) -> B256 {
    batch.eip712_signing_hash(&settlement_domain(chain_id, settlement))
}

/// Signs `batch` for the settlement contract at `settlement` on chain `chain_id`.
pub fn sign_batch(
    signer: &PrivateKeySigner,
    chain_id: u64,
    settlement: Address,
    batch: &Batch,
) -> Result<Signature, EvmError> {
    signer.sign_hash_sync(&batch_digest(chain_id, settlement, batch)).map_err(EvmError::Sign)
}

/// Orders signatures over `digest` by signer address ascending, the order `postBatch` checks to
/// prove the signers distinct. Fails on a signature that does not recover.
pub fn order_by_signer(digest: B256, signatures: &[Signature]) -> Result<Vec<Signature>, EvmError> {
    let mut signed = signatures
        .iter()
        .enumerate()
        .map(|(index, signature)| {
            signature
                .recover_address_from_prehash(&digest)
                .map(|signer| (signer, *signature))
                .map_err(|source| EvmError::Unrecoverable { index, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    signed.sort_by_key(|(signer, _)| *signer);
    Ok(signed.into_iter().map(|(_, signature)| signature).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{address, b256, keccak256, U256};

    // The type hash is the contract's BATCH_TYPEHASH preimage, byte for byte.
    #[test]
    fn type_hash_matches_the_solidity_declaration() {
        let batch = Batch {
            sourceChain: B256::ZERO,
            sourceBridge: B256::ZERO,
            batchId: 0,
            root: B256::ZERO,
            total: U256::ZERO,
            count: 0,
        };
        assert_eq!(
            batch.eip712_type_hash(),
            keccak256(
                "Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64 batchId,bytes32 root,uint256 total,uint32 count)"
            )
        );
    }

    #[test]
    fn signatures_are_ordered_by_recovered_signer() {
        let signers: Vec<PrivateKeySigner> =
            (1u8..=3).map(|i| PrivateKeySigner::from_bytes(&B256::with_last_byte(i)).unwrap()).collect();
        let settlement = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        let batch = Batch {
            sourceChain: keccak256("arena-local-1"),
            sourceBridge: keccak256("inj1bridge"),
            batchId: 7,
            root: b256!("0x83a25ec01b5bd0718190f2464c8610443c288552253965bebd926f8281a76a26"),
            total: U256::from(300u64),
            count: 2,
        };
        let digest = batch_digest(84532, settlement, &batch);
        let signatures: Vec<Signature> =
            signers.iter().map(|s| sign_batch(s, 84532, settlement, &batch).unwrap()).collect();

        let ordered = order_by_signer(digest, &signatures).unwrap();
        let recovered: Vec<Address> =
            ordered.iter().map(|s| s.recover_address_from_prehash(&digest).unwrap()).collect();
        let mut expected: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        expected.sort();
        assert_eq!(recovered, expected);
    }

    #[test]
    fn digest_binds_chain_and_contract() {
        let batch = Batch {
            sourceChain: keccak256("arena-local-1"),
            sourceBridge: keccak256("inj1bridge"),
            batchId: 1,
            root: B256::repeat_byte(1),
            total: U256::from(5u8),
            count: 1,
        };
        let a = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        let b = address!("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
        assert_ne!(batch_digest(84532, a, &batch), batch_digest(84532, b, &batch));
        assert_ne!(batch_digest(84532, a, &batch), batch_digest(8453, a, &batch));
    }
}
