# GeSSL around MoCo v2 on `val` (CPU-scale protocol, as byol.py beside this file; `heads` =
# MoCo's projection neck):
#   python tools/analysis/study.py tools/analysis/studies/cifar10/mocov2.py \
#       --split val --seeds 0 --epochs 5
# On `test` (seed 0) GeSSL with the shared outer lr (beta 0.05) fell below its initialisation
# while the twin learned at its `val` lr 0.01 (protocol.py); 0.05 was the lr at which the twin
# itself had learned less. So beta is screened at the twin's lr.
from .cifar10_settings import OW, gessl_runs

PLAIN = 'configs/mocov2/mocov2_resnet18-narrow_1xb32-10e_cifar10-10k.py'
GESSL = 'configs/mocov2/mocov2-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
digits, _ = gessl_runs(GESSL, heads=['neck'])

runs = [
    dict(name='plain', config=PLAIN, options={OW + 'optimizer.lr': 0.01}),
    digits('digits'),
    digits('digits_beta0.01', **{OW + 'optimizer.lr': 0.01}),
]
