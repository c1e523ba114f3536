# GeSSL around Barlow Twins on `val` (CPU-scale protocol, as mocov2.py beside this file;
# `heads` = its projection neck):
#   python tools/analysis/study.py tools/analysis/studies/cifar10/barlowtwins.py \
#       --split val --seeds 0 --epochs 5
# On `test` (3 seeds) GeSSL with the shared outer lr (beta 0.05) was behind its twin, which
# learns at its `val` lr 0.01 (protocol.py: 0.05 learned less); so beta is screened at the
# twin's lr, as for MoCo v2.
from .cifar10_settings import OW, gessl_runs

PLAIN = 'configs/barlowtwins/barlowtwins_resnet18-narrow_1xb32-10e_cifar10-10k.py'
GESSL = 'configs/barlowtwins/barlowtwins-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
digits, _ = gessl_runs(GESSL, heads=['neck'])

runs = [
    dict(name='plain', config=PLAIN, options={}),
    digits('digits'),
    digits('digits_beta0.01', **{OW + 'optimizer.lr': 0.01}),
]
