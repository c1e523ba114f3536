#!/usr/bin/env bash
# Fine-tune an FPN detector (configs/benchmarks/mmdet/*fpn*) from a pretrained backbone
# on GPUS GPUs with torchrun, then test it (one process group, train_and_test.py):
#   bash tools/benchmarks/mmdet/dist_train_fpn.sh CONFIG PRETRAIN GPUS [train_and_test.py options]
# PRETRAIN: GeSSL checkpoint (base.backbone.*), mmpretrain checkpoint (backbone.*) or a
# backbone-only file; all of it goes to the backbone (ResNet or ViT).
# Logs, checkpoints and test_metrics.json in work_dirs/<config name>/ (or --work-dir).
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (default 29500). PYTHON: interpreter.
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,8p' "$0"; exit 1
fi
CONFIG=$1
PRETRAIN=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"

PYTHONPATH="$ROOT":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/benchmarks/mmdet/train_and_test.py" \
    "$CONFIG" \
    --pretrained "$PRETRAIN" \
    --launcher pytorch "${@:4}"
