# The CIFAR-10 screening of GeSSL around SimCLR (CPU-scale protocol: 10,000 training images,
# quarter-width ResNet-18, batch 32; configs/_base_/datasets/cifar10-10k_ssl.py). One seed, on
# the val split (pretraining and bank: 10,000 of `train`; queries: the 5,000 `val` images):
#   python tools/analysis/study.py tools/analysis/studies/cifar10/simclr.py \
#       --split val --seeds 0 --epochs 10
# Names: `digits` = the digits study's choice (heads-only, reverse, alpha 0.3, clip 10, KL +
# SSL loss, n 2, B 16, lambda 10, 2 views), each suffix changes one thing; `paper` = the
# paper's defaults. Cost: a heads-only run is ~1.2-1.5x a plain one; `paper` and `whole`
# (the whole network in the inner loop) are ~12-20x: leave them out with --only if needed.
from .cifar10_settings import OW, VIEWS, WHOLE, gessl_runs, plain_runs

PLAIN = 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_cifar10-10k.py'
GESSL = 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py'
digits, paper = gessl_runs(GESSL, heads=['neck'])

runs = plain_runs(PLAIN, lrs=(0.025, 0.1)) + [
    paper('paper'),
    digits('digits'),
    digits('digits_alpha0.1', **{OW + 'inner_lr': 0.1}),
    digits('digits_alpha1', **{OW + 'inner_lr': 1.0}),
    digits('digits_beta0.1', **{OW + 'optimizer.lr': 0.1}),
    digits('digits_clip30', **{OW + 'clip_grad': dict(max_norm=30)}),
    digits('digits_whole', WHOLE),
    digits('digits_finite-diff', **{OW + 'hypergrad': dict(_delete_=True, type='finite_diff',
                                                             eps=0.01)}),
    digits('digits_lambda5', **{OW + 'target_steps': 5}),
    digits('digits_n4', **{OW + 'tasks_per_update': 4}),
    digits('digits_B32', **{'data_preprocessor.task_size': 32, OW + 'tasks_per_update': 1}),
    digits('digits_mse', **{'model.outer_loss': 'mse'}),
    digits('digits_ssl0', **{'model.ssl_loss_weight': 0.0}),  # the paper's pure KL
    digits('digits_4views', **{VIEWS: 4}),  # 2 support + 2 query views
]
