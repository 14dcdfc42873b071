#!/usr/bin/env bash
# Runs every Arena test: contract builds checked by cosmwasm-check, unit and multi-test suites,
# shader tests on the GPU (lavapipe where there is none), and integration tests that start their
# own local chain and anvil on free ports. Installs what it needs first (scripts/setup.sh).
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

say "running the test suite"
cargo test --workspace --locked --no-fail-fast "$@"

say "all tests passed in $((SECONDS - started)) s"
