# The CPU protocol of the plain twins that did not learn at batch 32 (docs/benchmarks.md,
# "Other methods"): MoCo v2's queue and Barlow Twins' projector, chosen on `val` before any
# GeSSL comparison on them is worth running:
#   python tools/analysis/study.py tools/analysis/studies/cifar10/protocol.py \
#       --split val --seeds 0 --epochs 5
# MoCo v2 on CIFAR-10 keeps 4,096 keys at batch 256: 16 batches old. At batch 32 the same
# queue is 128 batches old, so queues of 512 (16 batches) and 256 are tried; and a lower lr:
# MoCo v2's CIFAR-10 recipe is lr 0.06 at batch 512, 0.004 at batch 32 by linear scaling,
# where the protocol's 0.05 is SimCLR's (tuned on `val`). Barlow Twins'
# 2048-d projector estimates a 2048 x 2048 cross-correlation from 32 samples here; 512-d is
# the quarter-width network's scale (the ImageNet model's 8192 for 2048-d features is 4x).
from .cifar10_settings import OW

LR = OW + 'optimizer.lr'
MOCO = 'configs/mocov2/mocov2_resnet18-narrow_1xb32-10e_cifar10-10k.py'
BARLOW = 'configs/barlowtwins/barlowtwins_resnet18-narrow_1xb32-10e_cifar10-10k.py'


def projector(dim: int) -> dict:
    return {'model.neck.hid_channels': dim, 'model.neck.out_channels': dim,
            'model.head.in_channels': dim}


runs = [
    dict(name='mocov2_q4096', config=MOCO, options={'model.queue_len': 4096, LR: 0.05}),
    dict(name='mocov2_q512', config=MOCO, options={'model.queue_len': 512, LR: 0.05}),
    dict(name='mocov2_q256', config=MOCO, options={'model.queue_len': 256, LR: 0.05}),
    dict(name='mocov2_q4096_lr0.01', config=MOCO, options={'model.queue_len': 4096, LR: 0.01}),
    dict(name='mocov2_q512_lr0.01', config=MOCO, options={'model.queue_len': 512, LR: 0.01}),
    dict(name='barlowtwins_d2048_lr0.01', config=BARLOW, options={**projector(2048), LR: 0.01}),
    dict(name='barlowtwins_d512', config=BARLOW, options={**projector(512), LR: 0.05}),
    dict(name='barlowtwins_d512_lr0.01', config=BARLOW, options={**projector(512), LR: 0.01}),
]
