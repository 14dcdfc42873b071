#!/usr/bin/env bash
# Arena's main job on a local devnet. Installs what it needs (scripts/setup.sh), starts the local
# chain and anvil (unless they already run), builds and deploys the contracts, and prints the
# deployment manifest and a test account's token balance. The network keeps running: explore it
# with `target/debug/testnet --help`, stop it with `target/debug/testnet down`.
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
cd "$ROOT"

say "building the testnet tool"
cargo build -q --locked -p testnet
testnet="$ROOT/target/debug/testnet"

status="$("$testnet" status)"
if grep -q '^chain: running' <<<"$status"; then
  say "network already running:"
  echo "$status"
else
  "$testnet" up
fi
"$testnet" deploy
say "Arena token balance of test account 1:"
"$testnet" balance 1
say "the network keeps running; stop it with: $testnet down"
