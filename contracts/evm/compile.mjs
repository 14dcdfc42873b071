#!/usr/bin/env node
// Compiles Arena's Solidity contracts offline with solc-js and the OpenZeppelin contracts from
// node_modules, and writes artifacts/{ArenaSettlement,ArenaToken}.json (abi, bytecode,
// deployedBytecode) in the solc/foundry layout that alloy's `sol!` reads.
//
//   node contracts/evm/compile.mjs           write the artifacts
//   node contracts/evm/compile.mjs --check   recompile in memory; exit 1 if the committed
//                                            artifacts differ from what the sources give
//
// Output is reproducible: pinned compiler (solc-js from package.json), pinned optimizer runs and
// EVM version, no metadata hash in the bytecode, and sources keyed by stable relative paths.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const nodeModules = join(root, "node_modules");
const artifactsDir = join(here, "artifacts");
const require = createRequire(join(root, "package.json"));

/** Contracts whose artifacts we commit, by source file. */
const CONTRACTS = { ArenaSettlement: "src/ArenaSettlement.sol", ArenaToken: "src/ArenaToken.sol" };

/** Compiler settings; changing any of them changes the committed bytes. */
const SETTINGS = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: "cancun",
  viaIR: false,
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function loadSolc() {
  if (!existsSync(join(nodeModules, "solc"))) {
    console.error("solc-js is not installed: run the setup: npm ci (at the repository root)");
    process.exit(2);
  }
  return require("solc");
}

/** Import callback: our sources relative to contracts/evm, everything else from node_modules. */
function findImports(path) {
  for (const base of [here, nodeModules]) {
    const file = join(base, path);
    if (existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `not found in contracts/evm or node_modules: ${path}` };
}

function compile(solc) {
  const sources = {};
  for (const file of Object.values(CONTRACTS)) {
    sources[file] = { content: readFileSync(join(here, file), "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const problems = output.errors ?? [];
  for (const p of problems) console.error(p.formattedMessage ?? p.message);
  if (problems.some((p) => p.severity === "error")) process.exit(1);

  const artifacts = {};
  for (const [name, file] of Object.entries(CONTRACTS)) {
    const c = output.contracts[file][name];
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: { version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
      abi: c.abi,
      bytecode: { object: "0x" + c.evm.bytecode.object },
      deployedBytecode: { object: "0x" + c.evm.deployedBytecode.object },
    };
    artifacts[name] = JSON.stringify(artifact, null, 2) + "\n";
  }
  return artifacts;
}

const check = process.argv.includes("--check");
const artifacts = compile(loadSolc());
let stale = [];
for (const [name, text] of Object.entries(artifacts)) {
  const path = join(artifactsDir, `${name}.json`);
  if (check) {
    const committed = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (committed !== text) stale.push(path);
  } else {
    mkdirSync(artifactsDir, { recursive: true });
    writeFileSync(path, text);
    const size = (JSON.parse(text).deployedBytecode.object.length - 2) / 2;
    console.log(`wrote ${path} (deployed code ${size} bytes)`);
  }
}
if (stale.length > 0) {
  console.error(
    `stale artifacts (sources or compiler settings changed): ${stale.join(", ")}\n` +
      "run: node contracts/evm/compile.mjs",
  );
  process.exit(1);
}
if (check) console.log("artifacts match the sources");
