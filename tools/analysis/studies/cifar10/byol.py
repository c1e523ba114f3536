# The CIFAR-10 screening of GeSSL around BYOL (CPU-scale protocol, as simclr.py beside this
# file; `heads` = BYOL's projector and predictor):
#   python tools/analysis/study.py tools/analysis/studies/cifar10/byol.py \
#       --split val --seeds 0 --epochs 10
# BYOL's plain lr is screened higher than SimCLR's (its best on the digits was 0.1).
from .cifar10_settings import OW, VIEWS, WHOLE, gessl_runs, plain_runs

PLAIN = 'configs/byol/byol_resnet18-narrow_1xb32-10e_cifar10-10k.py'
GESSL = 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
digits, paper = gessl_runs(GESSL, heads=['neck', 'head'])

runs = plain_runs(PLAIN, lrs=(0.1, 0.2)) + [
    paper('paper'),
    digits('digits'),
    digits('digits_alpha0.1', **{OW + 'inner_lr': 0.1}),
    digits('digits_beta0.1', **{OW + 'optimizer.lr': 0.1}),
    digits('digits_clip30', **{OW + 'clip_grad': dict(max_norm=30)}),
    digits('digits_whole', WHOLE),
    digits('digits_finite-diff', **{OW + 'hypergrad': dict(_delete_=True, type='finite_diff',
                                                             eps=0.01)}),
    digits('digits_n4', **{OW + 'tasks_per_update': 4}),
    digits('digits_B32', **{'data_preprocessor.task_size': 32, OW + 'tasks_per_update': 1}),
    digits('digits_ssl0', **{'model.ssl_loss_weight': 0.0}),
    digits('digits_4views', **{VIEWS: 4}),
]
