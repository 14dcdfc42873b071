// Reference for the Rust EIP-712 batch digest and signature, built from other code than the
// Rust side: ABI encoding by @metamask/abi-utils, Keccak-256 and secp256k1 (RFC 6979 signing)
// by ethereum-cryptography (@noble), both dependencies of @openzeppelin/merkle-tree.
//
// stdin:  {"chainId": "84532", "verifyingContract": "0x..", "sourceChainId": "arena-local-1",
//          "sourceBridge": "inj1..", "batchId": "1", "root": "0x..",
//          "total": "<decimal>", "count": "3", "privateKey": "0x.."}
// stdout: {"domainSeparator", "structHash", "digest", "signature" (r || s || v, v = 27/28), "signer"}
import { encode } from "@metamask/abi-utils";
import { keccak256 } from "ethereum-cryptography/keccak.js";
import { secp256k1 } from "ethereum-cryptography/secp256k1.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "ethereum-cryptography/utils.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const hex = (bytes) => "0x" + bytesToHex(bytes);
const typeHash = (s) => keccak256(utf8ToBytes(s));

const domainSeparator = keccak256(
  encode(
    ["bytes32", "bytes32", "bytes32", "uint256", "address"],
    [
      typeHash("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
      typeHash("ArenaSettlement"),
      typeHash("1"),
      BigInt(input.chainId),
      input.verifyingContract,
    ],
  ),
);
const structHash = keccak256(
  encode(
    ["bytes32", "bytes32", "bytes32", "uint64", "bytes32", "uint256", "uint32"],
    [
      typeHash(
        "Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64 batchId,bytes32 root,uint256 total,uint32 count)",
      ),
      // The source: keccak256 of the Cosmos chain id text and of the bridge's address text.
      keccak256(utf8ToBytes(input.sourceChainId)),
      keccak256(utf8ToBytes(input.sourceBridge)),
      BigInt(input.batchId),
      hexToBytes(input.root),
      BigInt(input.total),
      BigInt(input.count),
    ],
  ),
);
const digest = keccak256(new Uint8Array([0x19, 0x01, ...domainSeparator, ...structHash]));

const privateKey = hexToBytes(input.privateKey);
const sig = secp256k1.sign(digest, privateKey); // low-s by default
const signature = new Uint8Array([...sig.toCompactRawBytes(), 27 + sig.recovery]);
const publicKey = secp256k1.getPublicKey(privateKey, false);
const signer = keccak256(publicKey.slice(1)).slice(12);

process.stdout.write(
  JSON.stringify({
    domainSeparator: hex(domainSeparator),
    structHash: hex(structHash),
    digest: hex(digest),
    signature: hex(signature),
    signer: hex(signer),
  }),
);
