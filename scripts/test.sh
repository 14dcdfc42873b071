#!/usr/bin/env bash
# Runs every Arena test: contract builds checked by cosmwasm-check, unit and multi-test suites,
# shader tests on the GPU (lavapipe where there is none), and integration tests that start their
# own local chain and anvil on free ports. Installs what it needs first (scripts/setup.sh).
# Arguments go to `cargo test` (then run one binary after another, as cargo does), e.g. a
# test's name; without them the binaries run several at a time (scripts/test-binaries.sh).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/setup.sh"
cd "$ROOT"
started=$SECONDS

say "checking formatting"
cargo fmt --all -- --check || die "code is not formatted: run cargo fmt --all"

install_cosmwasm_check

say "building contracts to MVP wasm (artifacts/), each checked by cosmwasm-check"
cargo run -q --locked -p testnet -- build --require-check

say "compiling the benchmarks (they run with cargo bench; here they only must build)"
cargo build --workspace --locked --benches -q

if [ $# -gt 0 ]; then
  say "running the tests cargo selects with: $*"
  cargo test --workspace --locked --no-fail-fast "$@"
else
  source "$ROOT/scripts/test-binaries.sh"
  run_test_binaries
fi

say "all tests passed in $((SECONDS - started)) s"
