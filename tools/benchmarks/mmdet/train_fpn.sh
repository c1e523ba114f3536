#!/usr/bin/env bash
# Fine-tune an FPN detector (configs/benchmarks/mmdet/*fpn*) from a pretrained backbone
# on one device (GPU, or CPU with CUDA_VISIBLE_DEVICES=-1), without torchrun, then test it:
#   bash tools/benchmarks/mmdet/train_fpn.sh CONFIG PRETRAIN [train_and_test.py options]
# SyncBN becomes BN (--norm BN). The configs' schedules assume 16 images per iteration:
# with one device add e.g. --cfg-options train_dataloader.batch_size=16 if it fits, or
# --auto-scale-lr (smaller lr for the smaller batch, same number of iterations).
# Logs, checkpoints and test_metrics.json in work_dirs/<config name>/ (or --work-dir).
# The launch is the same as for C4 configs; only the config (and so the loading map) differs.
exec bash "$(dirname "$0")/train_c4.sh" "$@"
