#!/usr/bin/env bash
# Fine-tune an FPN detector (configs/benchmarks/mmdet/*fpn*) from a pretrained backbone
# on GPUS GPUs with torchrun, then test it (one process group, train_and_test.py):
#   bash tools/benchmarks/mmdet/dist_train_fpn.sh CONFIG PRETRAIN GPUS [train_and_test.py options]
# PRETRAIN: GeSSL checkpoint (base.backbone.*), mmpretrain checkpoint (backbone.*) or a
# backbone-only file; all of it goes to the backbone (ResNet or ViT).
# Logs, checkpoints and test_metrics.json in work_dirs/<config name>/ (or --work-dir).
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (default 29500). PYTHON: interpreter.
# The launch is the same as for C4 configs; only the config (and so the loading map) differs.
exec bash "$(dirname "$0")/dist_train_c4.sh" "$@"
