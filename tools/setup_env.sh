#!/usr/bin/env bash
# Create or update the project's virtual environment at .venv/ with the whole OpenMMLab stack.
#
#   bash tools/setup_env.sh          # normally reached through `make install` / `make test` / `make demo`
#
# Order matters (see README "Installation"): torch + torchvision, build tools, mmcv 2.1.0 compiled with its ops,
# the OpenMMLab toolboxes, then pinas_mm itself in editable mode. Every step is skipped when already satisfied, and
# pip's wheel cache turns the mmcv compile (15-30 min, once) into seconds on later runs.
# Environment: PYTHON (interpreter for a new venv, default python3), VENV (default .venv),
# MMCV_WITH_CUDA=0|1 (default: 1 when torch sees a GPU; set 1 to build CUDA ops on a GPU-less login node with nvcc),
# TORCH_CUDA_ARCH_LIST (CUDA archs to compile for, e.g. "8.0;9.0").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
REQ="requirements"

step() { printf '\n==> %s\n' "$*"; }
pip_install() { "$PY" -m pip install --disable-pip-version-check "$@"; }

if [ ! -x "$PY" ]; then
    step "creating virtual environment $VENV with ${PYTHON:-python3}"
    "${PYTHON:-python3}" -m venv "$VENV"
fi

step "torch, torchvision and build tools ($REQ/build.txt)"
# The local torch-2.13.0+cpu wheel is excluded in build.txt: torchvision 0.28.0 cannot register its ops on it.
pip_install -q -r "$REQ/build.txt"

mmcv_version="$(sed -n 's/^mmcv==//p' "$REQ/mminstall.txt")"
if "$PY" -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$mmcv_version')" 2>/dev/null; then
    step "mmcv $mmcv_version with compiled ops: already installed"
else
    with_cuda="${MMCV_WITH_CUDA:-$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')}"
    cache_args=()
    if [ "$with_cuda" = 1 ]; then
        export FORCE_CUDA=1
        # A CPU-only wheel in a shared cache must not be reused on a GPU node, so the CUDA build has its own cache.
        cache_args=(--cache-dir "${XDG_CACHE_HOME:-$HOME/.cache}/pip-mmcv-cuda")
    fi
    log="$VENV/mmcv-build.log"
    step "mmcv $mmcv_version with ops (CUDA ops: $with_cuda); the first build compiles for 15-30 min, later ones reuse pip's cache; log: $log"
    # ninja prints "[k/N] <compile command>" per source file: show the counter and the file as progress.
    if ! MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$PY" -m pip install --disable-pip-version-check -v --no-build-isolation "${cache_args[@]}" \
        "mmcv==$mmcv_version" -c "$REQ/build.txt" 2>&1 | tee "$log" |
        awk '/^ *\[[0-9]+\/[0-9]+\]/ && match($0, /[^ \/]+\.(cpp|cu)( |$)/) {
                 printf "    %s %s\n", $1, substr($0, RSTART, RLENGTH); fflush() }
             /Using cached mmcv|Successfully installed mmcv/ { print "    " $0; fflush() }'
    then
        echo "mmcv build failed; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
fi

step "OpenMMLab toolboxes, runtime and test requirements"
pip_install -q -r "$REQ/mminstall.txt" -r "$REQ/runtime.txt" -r "$REQ/tests.txt" -c "$REQ/build.txt"

step "pinas_mm (editable)"
pip_install -q --no-deps --no-build-isolation -e .

step "checking the environment"
"$PY" -c 'import pinas_mm; from pinas_mm.utils.check_env import print_versions; print_versions()'
