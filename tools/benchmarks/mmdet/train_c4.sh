#!/usr/bin/env bash
# Fine-tune a C4 detector (configs/benchmarks/mmdet/*r50-c4*) from a pretrained backbone
# on one device (GPU, or CPU with CUDA_VISIBLE_DEVICES=-1), without torchrun, then test it:
#   bash tools/benchmarks/mmdet/train_c4.sh CONFIG PRETRAIN [train_and_test.py options]
# SyncBN becomes BN (--norm BN). The configs' schedules assume 16 images per iteration:
# with one device add e.g. --cfg-options train_dataloader.batch_size=16 if it fits, or
# --auto-scale-lr (smaller lr for the smaller batch, same number of iterations).
# Logs, checkpoints and test_metrics.json in work_dirs/<config name>/ (or --work-dir).
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,8p' "$0"; exit 1
fi
CONFIG=$1
PRETRAIN=$2
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" "$ROOT/tools/benchmarks/mmdet/train_and_test.py" \
    "$CONFIG" \
    --pretrained "$PRETRAIN" \
    --norm BN "${@:3}"
