#!/usr/bin/env bash
# Arena's main job: a whole arena competition on a fresh local devnet. Installs what it needs
# (scripts/setup.sh), builds the tools, then `testnet demo`: a local chain and anvil, every
# contract built and deployed, a digits task with a cw20 reward pool, 3 trainer nodes (one weak),
# 4 validator nodes (one dishonest), 3 relayers, 2 rounds; beside it a language-model task (LoRA
# adapters of ranks 2, 4 and 8 over a tiny GPT pretrained once and cached in ~/.cache/arena); then
# settlement on the EVM side and the ERC-20 claims. Prints the leaderboards (with the language
# model's samples), the validators' record and the settlement, and writes
# .arena/demo/report.json and report.html. Arguments go to `testnet demo` (e.g. --keep-running,
# --rounds 3; see target/debug/testnet demo --help).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
cd "$ROOT"

say "building the tools (testnet, gpu-worker, arena-relayer)"
cargo build --locked -p testnet -p gpu-worker -p arena-relayer -p arena-explorer
exec "$ROOT/target/debug/testnet" demo "$@"
