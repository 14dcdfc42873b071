# Runs the workspace's test binaries several at a time (sourced by scripts/test.sh).
#
# `cargo test` runs one test binary after another. Most of Arena's wall time is in a dozen
# integration tests that start a local chain and wait on its blocks (200 ms each), which leaves
# the CPU idle much of the time; running ARENA_TEST_JOBS binaries at once (3 by default) fills
# it. Tests of one binary still run as cargo runs them (its own threads); tests of different
# binaries share nothing but free ports, which testnet's port registry hands out without
# collisions across processes.
#
# Each binary runs from its package's folder, as under `cargo test`, with its output in
# target/test-logs/; a failing binary's output is printed whole at the end. The slowest binaries
# start first, so the last one to start is not the longest.

# Binaries started first, longest first (seconds in runs beside the others on 2 cores:
# settlement_faults 178, daemons 140, settlement_e2e 140, lm_training 138, lm_round 127,
# round_faults 123, demo 117, ...): they set the suite's wall time.
SLOW_TEST_BINARIES=(arena-relayer/settlement_faults gpu-worker/daemons arena-relayer/settlement_e2e
  arena-compute/lm_training gpu-worker/lm_round testnet/round_faults testnet/demo testnet/network_restart
  arena-market/cdylib-arena_market testnet/validators arena-explorer/devnet testnet/market_round
  arena-relayer/failover_e2e arena-compute/lm_scale arena-relayer/evm_settlement)

# Builds the test binaries (diagnostics on stderr) and prints "executable<TAB>package
# folder<TAB>package/target" for each.
build_test_binaries() {
  cargo test --workspace --locked --no-run --message-format=json-render-diagnostics | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable") or not m["profile"]["test"]:
        continue
    # "path+file:///work/main/relayer#arena-relayer@0.3.0", or "...#0.3.0" when the folder is the name.
    source, fragment = m["package_id"].split("#")
    package = fragment.split("@")[0] if "@" in fragment else source.rsplit("/", 1)[-1]
    kind, target = m["target"]["kind"][0], m["target"]["name"]
    name = f"{package}/{target}" if kind == "test" else f"{package}/{kind}-{target}"
    print(m["executable"], os.path.dirname(m["manifest_path"]), name, sep="\t")
'
}

# Orders the binaries: SLOW_TEST_BINARIES first in their order, then the rest by name.
order_test_binaries() {
  local all slow
  all=$(cat)
  for slow in "${SLOW_TEST_BINARIES[@]}"; do
    awk -F'\t' -v n="$slow" '$3 == n' <<<"$all"
  done
  local pattern
  pattern=$(printf '%s\n' "${SLOW_TEST_BINARIES[@]}")
  awk -F'\t' 'NR == FNR { slow[$1] = 1; next } !($3 in slow)' <(echo "$pattern") <(echo "$all") | sort -t$'\t' -k3
}

run_test_binaries() {
  local jobs=${ARENA_TEST_JOBS:-3} logs="$ROOT/target/test-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  # "arena-relayer/settlement_e2e" logs to target/test-logs/arena-relayer.settlement_e2e.log.
  log_of() { printf '%s/%s.log' "$logs" "${1//\//.}"; }
  say "building the test binaries"
  local binaries
  binaries=$(build_test_binaries) || die "the tests do not build"
  binaries=$(order_test_binaries <<<"$binaries")
  say "running $(wc -l <<<"$binaries") test binaries, $jobs at a time (logs in target/test-logs/)"

  declare -A started_at name_of
  local failed=() running=0 exe dir name pid
  # Waits until one running binary ends and reports it. Polls rather than `wait -n`, which
  # misses a job that ended while the shell ran another command.
  finish_one() {
    local p rc
    while true; do
      for p in "${!name_of[@]}"; do
        kill -0 "$p" 2>/dev/null && continue
        rc=0
        wait "$p" || rc=$?
        report_one "${name_of[$p]}" $((SECONDS - ${started_at[$p]})) "$rc"
        unset "name_of[$p]"
        running=$((running - 1))
        return
      done
      sleep 1
    done
  }
  report_one() {
    local result
    result=$(grep -h '^test result:' "$(log_of "$1")" | awk '{p += $4; f += $6} END {printf "%d passed, %d failed", p, f}' || true)
    if [ "$3" = 0 ]; then
      printf '  ok    %-36s %4d s  %s\n' "$1" "$2" "$result"
    else
      printf '  FAIL  %-36s %4d s  %s (exit %d)\n' "$1" "$2" "$result" "$3"
      failed+=("$1")
    fi
  }
  while IFS=$'\t' read -r exe dir name; do
    [ "$running" -lt "$jobs" ] || finish_one
    (cd "$dir" && CARGO_MANIFEST_DIR="$dir" exec "$exe") >"$(log_of "$name")" 2>&1 &
    pid=$!
    name_of[$pid]=$name
    started_at[$pid]=$SECONDS
    running=$((running + 1))
  done <<<"$binaries"
  while [ "$running" -gt 0 ]; do finish_one; done

  say "documentation tests"
  cargo test --workspace --locked --doc -q >"$(log_of doctests)" 2>&1 || failed+=(doctests)

  if [ ${#failed[@]} -gt 0 ]; then
    for name in "${failed[@]}"; do
      printf '\n\033[1;31m===== %s (%s) =====\033[0m\n' "$name" "$(log_of "$name")"
      cat "$(log_of "$name")"
    done
    die "${#failed[@]} test binaries failed: ${failed[*]}"
  fi
  local passed
  passed=$(cat "$logs"/*.log | grep -h '^test result:' | awk '{p += $4} END {print p + 0}' || true)
  say "$passed tests passed ($(wc -l <<<"$binaries") test binaries and the documentation tests)"
}
