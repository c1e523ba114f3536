# The digits comparison reported in docs/benchmarks.md and shown by `make demo`: the GeSSL
# digits configs (their values chosen by simclr.py / byol.py on the val split) against
# their plain twins, and the paper's pure-KL objective beside them, on the held-out test
# split: `python tools/analysis/study.py THIS_FILE --split test --seeds 0 1 2 --epochs 3
# --sigma`.
OW = 'optim_wrapper.'
PURE_KL = {'model.ssl_loss_weight': 0.0, OW + 'clip_grad': dict(max_norm=30)}

runs = []
for method in ("simclr", "byol"):
    plain = f'configs/{method}/{method}_resnet18-narrow_1xb32-10e_digits.py'
    gessl = f'configs/{method}/{method}-gessl_resnet18-narrow_1xb32-10e_digits.py'
    runs += [
        dict(name=f'{method}_plain', config=plain, options={}),
        dict(name=f'{method}_gessl', config=gessl, options={}),
        # the paper's objective (no SSL term), its best clipping in the val study
        dict(name=f'{method}_gessl_pure-kl', config=gessl, options=PURE_KL),
    ]
# The plain twin's learning rate is 0.05 (SimCLR's best on val: 0.025 and 0.1 were worse);
# BYOL's best on val was 0.1, so plain BYOL is reported at that value too.
# SimCLR's other val finalist (3 seeds): pure KL with one task of 32 images per update.
runs.insert(3, dict(name='simclr_gessl_pure-kl_B32', config='configs/simclr/'
                    'simclr-gessl_resnet18-narrow_1xb32-10e_digits.py',
                    options={'model.ssl_loss_weight': 0.0, 'data_preprocessor.task_size': 32,
                             OW + 'tasks_per_update': 1}))
runs.insert(5, dict(name='byol_plain_lr0.1', config='configs/byol/'
                    'byol_resnet18-narrow_1xb32-10e_digits.py',
                    options={OW + 'optimizer.lr': 0.1}))
