//! The EIP-712 batch digest and attester signatures against an independent JavaScript
//! computation (ABI encoding by @metamask/abi-utils, Keccak and secp256k1 by
//! ethereum-cryptography): same domain separator, struct hash and digest; the same RFC 6979
//! signature from k256 as from noble; and that signature recovers to the signer's address.

mod node;

use arena_types::settlement::eip712::{batch_struct_hash, BatchHeader, BatchSource, SettlementDomain};
use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{batch_digest, evm_address_from_pubkey, EvmAddress, EvmSignature};
use cosmwasm_std::Uint256;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use node::SplitMix;

struct Case {
    domain: SettlementDomain,
    /// The source's texts: the JavaScript side hashes them itself.
    chain_id: String,
    bridge: String,
    batch: BatchHeader,
    private_key: [u8; 32],
}

fn cases() -> Vec<Case> {
    let mut rng = SplitMix(712);
    let mut out = vec![Case {
        domain: SettlementDomain {
            chain_id: 84532,
            verifying_contract: EvmAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap(),
        },
        chain_id: "arena-local-1".to_string(),
        bridge: "inj14hj2tavq8fpesdwxxcu44rty3hh90vhujaxlnz".to_string(),
        batch: BatchHeader {
            source: BatchSource::new("arena-local-1", "inj14hj2tavq8fpesdwxxcu44rty3hh90vhujaxlnz"),
            batch_id: 1,
            root: [0x22; 32],
            total: Uint256::from(1000u32),
            count: 3,
        },
        private_key: {
            let mut k = [0u8; 32];
            k[31] = 1;
            k
        },
    }];
    for i in 0..8 {
        let chain_id = format!("arena-{}-{i}", rng.next() % 1000);
        let bridge = format!("inj1{}", hex::encode(rng.bytes::<20>()));
        out.push(Case {
            domain: SettlementDomain { chain_id: rng.next(), verifying_contract: EvmAddress(rng.bytes()) },
            batch: BatchHeader {
                source: BatchSource::new(&chain_id, &bridge),
                batch_id: rng.next(),
                root: rng.bytes(),
                total: Uint256::from_be_bytes(rng.bytes()),
                count: rng.next() as u32,
            },
            // A random 32-byte string is a valid key except with negligible probability.
            private_key: rng.bytes(),
            chain_id,
            bridge,
        });
    }
    out
}

#[test]
fn digest_and_signature_match_the_javascript_reference() {
    for case in cases() {
        let reference = node::run(
            "eip712_batch.mjs",
            &serde_json::json!({
                "chainId": case.domain.chain_id.to_string(),
                "verifyingContract": case.domain.verifying_contract.to_string(),
                "sourceChainId": case.chain_id,
                "sourceBridge": case.bridge,
                "batchId": case.batch.batch_id.to_string(),
                "root": to_hex_0x(&case.batch.root),
                "total": case.batch.total.to_string(),
                "count": case.batch.count.to_string(),
                "privateKey": to_hex_0x(&case.private_key),
            }),
        );
        assert_eq!(to_hex_0x(&case.domain.separator()), reference["domainSeparator"].as_str().unwrap());
        assert_eq!(to_hex_0x(&batch_struct_hash(&case.batch)), reference["structHash"].as_str().unwrap());
        let digest = batch_digest(&case.domain, &case.batch);
        assert_eq!(to_hex_0x(&digest), reference["digest"].as_str().unwrap());

        // k256 signs the same digest to the same bytes (both use RFC 6979 nonces and low s).
        let key = SigningKey::from_bytes(&case.private_key.into()).unwrap();
        let (sig, recid) = key.sign_prehash_recoverable(&digest).unwrap();
        let mut ours = [0u8; 65];
        ours[..64].copy_from_slice(&sig.to_bytes());
        ours[64] = 27 + recid.to_byte();
        assert_eq!(to_hex_0x(&ours), reference["signature"].as_str().unwrap());

        // The reference signature parses and recovers to the reference signer.
        let parsed = EvmSignature::from_hex(reference["signature"].as_str().unwrap()).unwrap();
        let recovered = VerifyingKey::recover_from_prehash(
            &digest,
            &Signature::from_slice(&parsed.rs()).unwrap(),
            RecoveryId::from_byte(parsed.recovery_id).unwrap(),
        )
        .unwrap();
        let signer = evm_address_from_pubkey(recovered.to_encoded_point(false).as_bytes()).unwrap();
        assert_eq!(signer, EvmAddress::parse(reference["signer"].as_str().unwrap()).unwrap());
    }
}

#[test]
fn the_known_key_signs_to_its_known_address() {
    // Private key 1's address is 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf; the reference
    // computes it from the key with its own code.
    let case = &cases()[0];
    let reference = node::run(
        "eip712_batch.mjs",
        &serde_json::json!({
            "chainId": "84532",
            "verifyingContract": case.domain.verifying_contract.to_string(),
            "sourceChainId": case.chain_id,
            "sourceBridge": case.bridge,
            "batchId": "1",
            "root": to_hex_0x(&case.batch.root),
            "total": "1000",
            "count": "3",
            "privateKey": to_hex_0x(&case.private_key),
        }),
    );
    assert_eq!(reference["signer"].as_str().unwrap(), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
}
