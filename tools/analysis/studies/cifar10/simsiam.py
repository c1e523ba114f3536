# SimSiam on `val` (CPU-scale protocol, as mocov2.py beside this file): its plain twin at the
# protocol's lr 0.05 and at 0.01 (MoCo v2's and Barlow Twins' twins learned better at 0.01
# here: protocol.py), and GeSSL at each as its outer lr (`heads` = the projector and the
# predictor). SimSiam keeps the predictor's lr fixed (SimSiamHook), so each run moves it too.
#   python tools/analysis/study.py tools/analysis/studies/cifar10/simsiam.py \
#       --split val --seeds 0 --epochs 5
from .cifar10_settings import OW, gessl_runs

PLAIN = 'configs/simsiam/simsiam_resnet18-narrow_1xb32-10e_cifar10-10k.py'
GESSL = 'configs/simsiam/simsiam-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
PREDICTOR_LR = 'custom_hooks.2.lr'  # SimSiamHook, after FeatureEvalHook, RandomStateHook
digits, _ = gessl_runs(GESSL, heads=['neck', 'head'])


def lr(value: float) -> dict:
    return {OW + 'optimizer.lr': value, PREDICTOR_LR: value}


runs = [
    dict(name='plain', config=PLAIN, options={}),
    dict(name='plain_lr0.01', config=PLAIN, options=lr(0.01)),
    digits('digits'),
    digits('digits_beta0.01', lr(0.01)),
    # the heads-only step adapts the 2048-wide projector too and costs 7x the twin's step;
    # the predictor alone is the smaller head
    digits('digits_predictor', **{OW + 'inner_params': ['head']}),
]
