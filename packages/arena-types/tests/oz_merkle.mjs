// Reference for the Rust Merkle tree: OpenZeppelin's own StandardMerkleTree (npm
// @openzeppelin/merkle-tree, pinned in the root package.json).
//
// stdin:  {"values": [["<batchId>", "<index>", "0x<recipient>", "<amount>"], ...]} (decimal strings)
// stdout: {"root": "0x..", "proofs": [["0x..", ...], ...]}, proofs[i] being the proof of values[i].
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { values } = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const tree = StandardMerkleTree.of(values, ["uint64", "uint32", "address", "uint256"]);
const proofs = values.map((_, i) => tree.getProof(i));
process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
