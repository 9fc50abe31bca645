#!/usr/bin/env bash
# Create or update the project's virtual environment at .venv/ with the whole OpenMMLab stack.
#
#   bash tools/setup_env.sh          # normally reached through `make install` / `make test` / `make demo`
#
# Order matters (see docs/en/get_started.md, "Installation"): torch + torchvision, build tools, mmcv 2.1.0 compiled with
# its ops, the OpenMMLab toolboxes, then pinas_mm itself in editable mode. Every step is skipped when already satisfied,
# and pip's wheel cache (one per torch version and CUDA choice) turns the mmcv compile (15-30 min, once) into seconds.
# A torch already installed in the supported range (requirements/torch.txt; a cluster's CUDA build) is kept, with a
# torchvision of its own; otherwise requirements/build.txt's pair is installed.
# Environment: PYTHON (interpreter for a new venv, default python3), VENV (default .venv),
# TORCH_VERSION (install this torch, e.g. 2.1.2, and its torchvision, instead of keeping or defaulting),
# MMCV_WITH_OPS=1|0 (default 1; 0 installs mmcv-lite, without ops: enough for supernet training, search and export),
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

# The installed torch's version if it is in the supported range, else nothing (pip's vendored packaging: the venv
# may have no other yet).
installed_torch() {
    "$PY" - "$REQ/torch.txt" 2>/dev/null <<'EOF' || true
import importlib.metadata as metadata, sys
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version
torch = metadata.version('torch')
supported = [Requirement(line) for line in open(sys.argv[1]) if line.startswith('torch>=')][0]
if Version(Version(torch).base_version) in supported.specifier:
    print(torch)
EOF
}

# The torchvision built for a torch 2.x release: 0.16 for 2.1, ..., 0.28 for 2.13 (check_env.matching_torchvision).
matching_torchvision() { echo "torchvision==0.$(( $(echo "$1" | cut -d. -f2) + 15 )).*"; }

torch_version="$(installed_torch)"
if [ -n "${TORCH_VERSION:-}" ] && [ "${torch_version%%+*}" != "$TORCH_VERSION" ]; then
    step "torch $TORCH_VERSION (TORCH_VERSION) and its torchvision"
    pip_install -q "torch==$TORCH_VERSION" "$(matching_torchvision "$TORCH_VERSION")"
elif [ -n "$torch_version" ]; then
    step "torch $torch_version: installed and supported, kept (TORCH_VERSION=... installs another)"
else
    other="$("$PY" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)"
    step "torch and torchvision ($REQ/build.txt: ${other:+torch $other is outside $REQ/torch.txt, }no supported torch installed)"
    # The local torch-2.13.0+cpu wheel is excluded in build.txt: torchvision 0.28.0 cannot register its ops on it.
    pip_install -q -r "$REQ/build.txt"
fi
torch_version="$(installed_torch)"
[ -n "$torch_version" ] || { echo "no supported torch ($REQ/torch.txt) is installed after this step" >&2; exit 1; }
torch_minor="$(echo "$torch_version" | cut -d. -f2)"
# Everything after keeps this torch: pip must never replace it while resolving mmcv's or a toolbox's requirements.
constraints="$VENV/pinas-constraints.txt"
{
    echo "torch==$torch_version"
    matching_torchvision "$torch_version"
    # torch before 2.3 was built for numpy 1 and crashes on numpy 2 arrays
    if [ "$torch_minor" -lt 3 ]; then echo "numpy<2"; fi
} > "$constraints"
step "torchvision and numpy for torch $torch_version, build tools"
pip_install -q "$(matching_torchvision "$torch_version")" numpy $(grep -E '^(setuptools|wheel|ninja)' "$REQ/build.txt") \
    -c "$constraints"

mmcv_version="$(sed -n 's/^mmcv==//p' "$REQ/tested.txt")"
toolboxes="$REQ/mminstall.txt"
if [ "${MMCV_WITH_OPS:-1}" = 0 ]; then
    # mmcv without ops is published as mmcv-lite; the toolboxes are then installed without asking pip for "mmcv".
    if "$PY" -c "import mmcv, sys; sys.exit(mmcv.__version__ != '$mmcv_version')" 2>/dev/null; then
        step "mmcv $mmcv_version: already installed (MMCV_WITH_OPS=0 keeps it)"
    else
        step "mmcv-lite $mmcv_version (MMCV_WITH_OPS=0: no compiled ops, enough for the supernet, search and export)"
        pip_install -q "mmcv-lite==$mmcv_version" -c "$constraints"
    fi
    toolboxes="$VENV/mminstall-without-mmcv.txt"
    grep -v '^mmcv' "$REQ/mminstall.txt" > "$toolboxes"
elif "$PY" -c "import mmcv._ext, mmcv, sys; sys.exit(mmcv.__version__ != '$mmcv_version')" 2>/dev/null; then
    step "mmcv $mmcv_version with compiled ops: already installed"
else
    # An mmcv whose ops were built for another torch cannot load them, yet pip would call it satisfied and keep it.
    "$PY" -m pip uninstall -q -y mmcv mmcv-lite 2>/dev/null || true
    with_cuda="${MMCV_WITH_CUDA:-$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')}"
    if [ "$with_cuda" = 1 ]; then export FORCE_CUDA=1; fi
    # pip caches the built wheel by mmcv's version only: one built for another torch (or without CUDA) would be
    # reused and fail to load, so each torch and CUDA choice has its own cache; the default pair without CUDA keeps
    # pip's own cache, where earlier set-ups left that same wheel.
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/pip-mmcv/torch${torch_version}-cuda${with_cuda}"
    if [ "$torch_version" = "$(sed -n 's/^torch==\([^,]*\).*/\1/p' "$REQ/build.txt")" ] && [ "$with_cuda" = 0 ]; then
        cache="$("$PY" -m pip cache dir)"
    fi
    log="$VENV/mmcv-build.log"
    step "mmcv $mmcv_version with ops for torch $torch_version (CUDA ops: $with_cuda); a first build compiles for 15-30 min, later ones reuse $cache; log: $log"
    # ninja prints "[k/N] <compile command>" per source file: show the counter and the file as progress.
    if ! MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "$PY" -m pip install --disable-pip-version-check -v --no-build-isolation --cache-dir "$cache" \
        "mmcv==$mmcv_version" -c "$constraints" 2>&1 | tee "$log" |
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
pip_install -q -r "$toolboxes" -r "$REQ/runtime.txt" -r "$REQ/tests.txt" -c "$REQ/tested.txt" \
    -c "$constraints"

step "pinas_mm (editable)"
pip_install -q --no-deps --no-build-isolation -e .

step "checking the environment"
"$PY" -c 'from pinas_mm.compat import print_environment; print_environment()'
