//! Attestations: signatures over the EIP-712 batch digest, recovered on chain.

use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::SettlementError;

use super::suite::{contract_error, decode_hex, hex_encode, Options, Suite, TestAttester, RECIPIENT, SETTLEMENT};
use crate::msg::{BatchStatus, ExecuteMsg};
use crate::ContractError;

#[test]
fn threshold_attestations_make_the_batch_attested() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let res = s.attest_by(0, id).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Sealed);
    assert_eq!(batch.attestation_count, 1);
    let wasm = res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "attest")).unwrap();
    let attr = |k: &str| wasm.attributes.iter().find(|a| a.key == k).unwrap().value.clone();
    assert_eq!(attr("signer"), s.attesters[0].evm.to_string());
    assert_eq!(attr("attestations"), "1");
    assert_eq!(attr("status"), "sealed");

    s.attest_by(1, id).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Attested);
    assert_eq!(batch.attestation_count, 2);
    let attested = s.batches(Some(BatchStatus::Attested), None, None).batches;
    assert_eq!(attested.len(), 1);
    assert!(s.batches(Some(BatchStatus::Sealed), None, None).batches.is_empty());

    // Both are listed, with the signatures the settlement contract takes and the digest signed.
    let list = s.attestations(id, None, None).attestations;
    let mut signers: Vec<String> = list.iter().map(|a| a.signer.clone()).collect();
    signers.sort();
    let mut expected = vec![s.attesters[0].evm.to_string(), s.attesters[1].evm.to_string()];
    expected.sort();
    assert_eq!(signers, expected);
    for a in &list {
        assert_eq!(a.digest, to_hex_0x(&s.digest(id)));
        let i = s.attesters.iter().position(|t| t.evm.to_string() == a.signer).unwrap();
        assert_eq!(a.signature, s.sign(i, id));
    }
}

#[test]
fn attestations_beyond_the_threshold_are_recorded_and_the_status_stays() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    s.attest_by(2, id).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Attested);
    assert_eq!(batch.attestation_count, 3);
}

#[test]
fn attestation_by_a_non_attester_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let outsider = TestAttester::new(&s.app, 99);
    let signature = outsider.sign_digest(&s.digest(id));
    let err = contract_error(s.attest(id, signature).unwrap_err());
    assert_eq!(
        err,
        ContractError::NotAttester { batch_id: id, signer: outsider.evm.to_string(), digest: to_hex_0x(&s.digest(id)) }
    );
    assert_eq!(s.batch(id).attestation_count, 0);
}

#[test]
fn duplicate_attestation_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    s.attest_by(0, id).unwrap();
    let err = contract_error(s.attest_by(0, id).unwrap_err());
    assert_eq!(err, ContractError::DuplicateAttestation { batch_id: id, signer: s.attesters[0].evm.to_string() });
}

#[test]
fn the_same_signature_with_v_0_or_1_is_a_duplicate_too() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let signature = s.sign(0, id);
    s.attest(id, signature.clone()).unwrap();
    let mut bytes = decode_hex(&signature);
    bytes[64] -= 27;
    let err = contract_error(s.attest(id, hex_encode(&bytes)).unwrap_err());
    assert!(matches!(err, ContractError::DuplicateAttestation { .. }), "{err:?}");
}

#[test]
fn v_0_or_1_is_accepted_and_stored_as_27_or_28() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let signature = s.sign(0, id);
    let mut bytes = decode_hex(&signature);
    bytes[64] -= 27;
    s.attest(id, format!("0x{}", hex_encode(&bytes))).unwrap();
    assert_eq!(s.attestations(id, None, None).attestations[0].signature, signature);
}

#[test]
fn signature_of_wrong_length_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let signature = s.sign(0, id);
    let err = contract_error(s.attest(id, signature[..130].to_string()).unwrap_err());
    assert_eq!(err, ContractError::Settlement(SettlementError::SignatureLength { len: 64 }));
}

#[test]
fn signature_that_is_not_hex_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let err = contract_error(s.attest(id, "0xnot-a-signature".to_string()).unwrap_err());
    assert!(matches!(err, ContractError::Settlement(SettlementError::MalformedHex { .. })), "{err:?}");
}

#[test]
fn signature_with_an_invalid_v_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let mut bytes = decode_hex(&s.sign(0, id));
    bytes[64] = 35;
    let err = contract_error(s.attest(id, hex_encode(&bytes)).unwrap_err());
    assert_eq!(err, ContractError::Settlement(SettlementError::InvalidRecoveryByte { v: 35 }));
}

#[test]
fn high_s_signature_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let bytes = decode_hex(&s.sign(0, id));
    // The malleated twin (r, n - s, other parity) recovers the same key; OpenZeppelin refuses it.
    let sig = k256::ecdsa::Signature::from_slice(&bytes[..64]).unwrap();
    let mut twin = bytes.clone();
    twin[32..64].copy_from_slice(&(-*sig.s()).to_bytes());
    twin[64] = if bytes[64] == 27 { 28 } else { 27 };
    let err = contract_error(s.attest(id, hex_encode(&twin)).unwrap_err());
    assert_eq!(err, ContractError::Settlement(SettlementError::HighS));
}

#[test]
fn signature_over_another_batch_is_refused() {
    let mut s = Suite::new();
    let first = s.sealed_batch();
    let alice = s.alice.clone();
    for _ in 0..3 {
        s.withdraw(&alice, 1, RECIPIENT).unwrap();
    }
    s.seal().unwrap();
    // Attester 0's signature of batch 2, submitted for batch 1: recovers some other address.
    let signature = s.sign(0, 2);
    let err = contract_error(s.attest(first, signature).unwrap_err());
    match err {
        ContractError::NotAttester { batch_id, signer, digest } => {
            assert_eq!(batch_id, first);
            assert_ne!(signer, s.attesters[0].evm.to_string());
            assert_eq!(digest, to_hex_0x(&s.digest(first)));
        }
        other => panic!("expected NotAttester, got {other:?}"),
    }
    assert_eq!(s.batch(first).attestation_count, 0);
}

#[test]
fn signature_under_another_chain_id_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let batch = s.batch(id);
    let domain = arena_types::settlement::SettlementDomain {
        chain_id: 1,
        verifying_contract: arena_types::settlement::EvmAddress::parse(SETTLEMENT).unwrap(),
    };
    let header = batch.header(s.source()).unwrap();
    let wrong = arena_types::settlement::batch_digest(&domain, &header);
    let signature = s.attesters[0].sign_digest(&wrong);
    let err = contract_error(s.attest(id, signature).unwrap_err());
    assert!(matches!(err, ContractError::NotAttester { .. }), "{err:?}");
}

#[test]
fn attestation_of_an_unknown_batch_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let signature = s.sign(0, id);
    let err = contract_error(s.attest(7, signature).unwrap_err());
    assert_eq!(err, ContractError::UnknownBatch { batch_id: 7 });
}

#[test]
fn attestation_without_a_settlement_address_is_refused_until_it_is_set() {
    let mut s = Suite::with(Options { evm_settlement: None, ..Options::default() });
    let id = s.sealed_batch();
    assert_eq!(s.batch(id).digest, None);
    let err = contract_error(s.attest(id, "0x00".to_string()).unwrap_err());
    assert_eq!(err, ContractError::SettlementAddressNotSet {});

    let admin = s.admin.clone();
    s.execute(&admin, ExecuteMsg::SetEvmSettlement { address: SETTLEMENT.to_string() }).unwrap();
    s.attest_by(0, id).unwrap();
    assert_eq!(s.batch(id).attestation_count, 1);
}

#[test]
fn attestation_of_a_confirmed_batch_is_refused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let hash = format!("0x{}", "ab".repeat(32));
    s.confirm_by_threshold(id, &hash);
    let err = contract_error(s.attest_by(2, id).unwrap_err());
    assert_eq!(err, ContractError::BatchConfirmed { batch_id: id, evm_tx_hash: hash });
}

#[test]
fn attestation_while_paused_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let admin = s.admin.clone();
    s.execute(&admin, ExecuteMsg::SetPaused { paused: true }).unwrap();
    let err = contract_error(s.attest_by(0, id).unwrap_err());
    assert_eq!(err, ContractError::Paused {});
}

#[test]
fn signature_whose_r_is_no_curve_point_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let digest = s.digest(id);
    // The first small r that is not the x coordinate of a curve point: nothing recovers from it.
    let (bytes, reason) = (1u8..=255)
        .find_map(|x| {
            let mut bytes = [0u8; 65];
            bytes[31] = x;
            bytes[63] = 1;
            bytes[64] = 27;
            let sig = k256::ecdsa::Signature::from_slice(&bytes[..64]).unwrap();
            let recid = k256::ecdsa::RecoveryId::from_byte(0).unwrap();
            k256::ecdsa::VerifyingKey::recover_from_prehash(&digest, &sig, recid).err().map(|e| (bytes, e.to_string()))
        })
        .unwrap();
    let err = contract_error(s.attest(id, hex_encode(&bytes)).unwrap_err());
    match err {
        ContractError::Unrecoverable { batch_id, reason: why } => {
            assert_eq!(batch_id, id);
            assert!(!why.is_empty(), "k256 said: {reason}");
        }
        other => panic!("expected Unrecoverable, got {other:?}"),
    }
}
