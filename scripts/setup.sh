#!/usr/bin/env bash
# Installs everything Arena needs into folders the project owns (.tools/, node_modules/), on a
# fresh Debian machine or any Linux with rustup, python3 and npm. Idempotent: a second run only
# checks, in a few seconds. Sourced by scripts/run-round.sh and scripts/test.sh; also runs alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
INJECTIVE_CORE_VERSION="1.20.1"   # PyPI injective-core: injectived (Cosmos SDK 0.50, wasmvm 2.1)
COSMWASM_CHECK_VERSION="3.0.10"   # crates.io cosmwasm-check

say() { printf '\033[1;34m[arena]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[arena] %s\033[0m\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing. $2"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

apt_updated=""
apt_install() {
  need apt-get "Install these packages with your system's package manager: $*"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq || die "apt-get update failed: is the Debian package registry reachable?"; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# --- Prerequisites that we do not install ourselves -------------------------------------------
need cargo "Install Rust with rustup (https://rustup.rs), then re-run."
need rustup "Arena needs rustup to add the wasm32 target (https://rustup.rs)."
need python3 "Install Python 3.9+ (Debian: apt-get install python3 python3-venv)."
need npm "Install Node.js 18+ with npm (Debian: apt-get install nodejs npm)."
need node "Install Node.js 18+ (Debian: apt-get install nodejs)."

# --- Rust: the wasm target for contracts -------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >/dev/null || die "rustup target add failed: is the network to the Rust registries reachable?"
fi

# --- GPU: a Vulkan driver (lavapipe, software) when the machine has none -----------------------
has_vulkan_driver() { compgen -G "/usr/share/vulkan/icd.d/*.json" >/dev/null || compgen -G "/etc/vulkan/icd.d/*.json" >/dev/null; }
if ! has_vulkan_driver || ! /sbin/ldconfig -p | grep -q 'libvulkan.so.1'; then
  say "no Vulkan driver found: installing lavapipe (mesa-vulkan-drivers) and the Vulkan loader"
  apt_install mesa-vulkan-drivers libvulkan1 libegl1 libgl1-mesa-dri
fi

# --- A headless browser for the explorer's browser test: Debian's chromium --------------------
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  say "installing chromium (the explorer's test drives it headless)"
  ( apt_install chromium ) || say "chromium could not be installed: the explorer's browser checks will be skipped, saying so"
fi

# --- The chain: injectived from PyPI, unpacked into .tools/injective ---------------------------
if [ ! -x "$TOOLS/injective/injectived" ]; then
  if [ ! -x "$TOOLS/venv/bin/pip" ]; then
    say "creating a Python venv in .tools/venv"
    python3 -m venv "$TOOLS/venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$TOOLS/venv"; } \
      || die "python3 -m venv failed; install python3-venv"
  fi
  say "installing injective-core $INJECTIVE_CORE_VERSION from PyPI (about 60 MB)"
  "$TOOLS/venv/bin/pip" install -q "injective-core==$INJECTIVE_CORE_VERSION" || die "pip install injective-core failed: is PyPI reachable?"
  say "unpacking injectived into .tools/injective"
  mkdir -p "$TOOLS/injective"
  "$TOOLS/venv/bin/python" - "$TOOLS/injective" <<'PY'
import sys, tarfile, zstandard, importlib.resources as r
archive = r.files("injective_core") / "bin" / "injectived.tar.zst"
with archive.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as z, tarfile.open(fileobj=z, mode="r|") as t:
    t.extractall(sys.argv[1])
PY
  chmod +x "$TOOLS/injective/injectived-linux-x64"
  ln -sf injectived-linux-x64 "$TOOLS/injective/injectived"
fi

# --- JavaScript tools, pinned by package-lock.json: anvil, cast, solc, wasm-opt, OpenZeppelin ---
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm packages (anvil, cast, solc, binaryen, OpenZeppelin)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed: is the npm registry reachable?"
fi

# --- cosmwasm-check, which validates wasm against the chain's capabilities ---------------------
# Only the test command needs it (scripts/test.sh calls this): the chain validates every wasm it
# stores, and building it takes ~10 minutes on 2 cores, once.
install_cosmwasm_check() {
  if [ ! -x "$TOOLS/cargo/bin/cosmwasm-check" ]; then
    say "building cosmwasm-check $COSMWASM_CHECK_VERSION (a few minutes on 2 cores, once)"
    # It checks three small wasm files: wasmer at opt-level 1 without LTO does that as well, and
    # builds in a fraction of the time of the crate's own release profile (~10 minutes here).
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cosmwasm-check --version "$COSMWASM_CHECK_VERSION" --locked --root "$TOOLS/cargo" \
      || die "cargo install cosmwasm-check failed: is crates.io reachable?"
  fi
}

# Mesa prints a harmless warning without a runtime dir.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$TOOLS/run}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export ARENA_ROOT="$ROOT"
