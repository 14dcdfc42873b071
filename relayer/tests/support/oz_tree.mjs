#!/usr/bin/env node
// Reference Merkle tree for the relayer's tests and benchmark: OpenZeppelin's StandardMerkleTree
// (npm @openzeppelin/merkle-tree) over (uint64 batchId, uint32 index, address recipient,
// uint256 amount), the encoding ArenaSettlement's claims verify.
//
// stdin:  {"values": [["<batchId>", "<index>", "0x<recipient>", "<amount>"], ...]}
//         (numbers as decimal strings, so amounts above 2^53 survive JSON)
// stdout: {"root": "0x...", "proofs": [["0x...", ...], ...]}, proofs[i] for values[i]
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { values } = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const tree = StandardMerkleTree.of(values, ["uint64", "uint32", "address", "uint256"]);
const proofs = new Array(values.length);
for (const [i] of tree.entries()) proofs[i] = tree.getProof(i);
process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
