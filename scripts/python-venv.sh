#!/usr/bin/env bash
# The Python environment of the language models' parity test (packages/arena-compute/tests/
# lm_parity.rs): PyTorch, transformers and PEFT, pinned, in a cache outside the repository
# (${ARENA_PY_CACHE:-~/.cache/arena}/venv) so fresh clones reuse it. Idempotent: a second run
# checks a stamp of the pins and returns in well under a second. Prints the venv's python on
# its last line of stdout; exits non-zero, saying why, when PyPI cannot be reached.
#
# PyPI is the only package registry reachable here, and PyPI's Linux torch wheel is the CUDA
# build: 539 MB, and `import torch` loads the CUDA libraries it requires (cuBLAS, cuDNN, NCCL...,
# about 3 GB as nvidia-* and cuda-* wheels) even to run on the CPU, so they are installed too.
# triton (1 GB, GPU kernels for torch.compile only) is removed after the install. On a machine
# that reaches PyTorch's CPU index, torch==2.15.0+cpu from there would be about 200 MB in all.
set -euo pipefail

TORCH_VERSION="2.15.0"
TRANSFORMERS_VERSION="5.23.0"
PEFT_VERSION="0.21.2"
# What the three need besides torch's CUDA libraries (which torch pins itself), pinned: pip freeze
# of a resolved install.
LOCK=(accelerate==1.15.0 annotated-doc==0.0.7 annotated-types==0.8.0 anyio==4.16.0 click==8.5.1
  filelock==4.3.1 fsspec==2026.9.0 h11==0.16.0 hf-xet==1.8.0 httpcore2==2.16.2 httpx2==2.16.2
  huggingface_hub==2.4.0 idna==3.20 Jinja2==3.1.6 markdown-it-py==4.3.0 MarkupSafe==3.0.4
  mdurl==0.1.2 mpmath==1.3.0 networkx==3.6.1 numpy==2.4.6 packaging==26.4 psutil==7.2.2
  pydantic==2.14.4 pydantic_core==2.50.5 Pygments==2.21.0 PyYAML==6.0.4 regex==2026.11.19
  rich==15.0.0 safetensors==0.8.0 shellingham==1.5.4 sympy==1.14.0 tokenizers==0.23.3 tqdm==4.70.1
  truststore==0.10.5 typer==0.29.2 typing-inspection==0.4.5 typing_extensions==4.16.0)

CACHE="${ARENA_PY_CACHE:-$HOME/.cache/arena}"
VENV="$CACHE/venv"
STAMP="$VENV/.arena-pins"
PINS="torch==$TORCH_VERSION transformers==$TRANSFORMERS_VERSION peft==$PEFT_VERSION (no triton)"

say() { printf '\033[1;34m[arena]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[arena] %s\033[0m\n' "$*" >&2; exit 1; }

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PINS" ] && [ -x "$VENV/bin/python" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

command -v python3 >/dev/null || die "python3 is missing (Debian: apt-get install python3 python3-venv)"
say "creating $VENV with $PINS (4.6 GB, about a minute the first time)"
rm -rf "$VENV" 2>/dev/null || true
mkdir -p "$CACHE" || die "cannot create $CACHE (set ARENA_PY_CACHE to a writable folder)"
python3 -m venv "$VENV" || die "python3 -m venv failed; install python3-venv"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "${LOCK[@]}" \
  "torch==$TORCH_VERSION" "transformers==$TRANSFORMERS_VERSION" "peft==$PEFT_VERSION" >&2 \
  || die "pip install failed: is PyPI reachable?"
"$VENV/bin/python" -m pip uninstall -q -y triton >&2
"$VENV/bin/python" -c "import torch, transformers, peft" || die "the venv's torch, transformers or peft does not import"
echo "$PINS" >"$STAMP"
say "venv ready: $(du -sh "$VENV" | cut -f1)"
echo "$VENV/bin/python"
