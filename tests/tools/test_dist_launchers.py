"""The multi-process commands of the README, run as typed: ``tools/dist_train.sh``,
``tools/dist_test.sh`` and ``tools/slurm_train.sh`` with 2 CPU processes (gloo).

Every run trains a digits config of ``configs/`` through a small derived config: a fixed
view pipeline (an identity view and a flipped one) and a fixed order, so that a one-process
run can be given exactly the tasks that the two ranks learn, and a few iterations. The
plugin ``rank_state_hook`` (tests/rank_state_hook.py) saves each rank's model state.
"""
import json
import os
import os.path as osp
import re
import socket
import subprocess
import sys
from typing import Dict, List, Optional

import pytest
import torch

pytestmark = pytest.mark.multiprocess

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))  # tests/: rank_state_hook.py
ROOT = osp.dirname(TESTS)
CONFIGS = {
    'SimCLR': osp.join(ROOT, 'configs/simclr/simclr-gessl_resnet18-narrow_1xb32-10e_digits.py'),
    'BYOL': osp.join(ROOT, 'configs/byol/byol-gessl_resnet18-narrow_1xb32-10e_digits.py'),
    'SimCLR plain': osp.join(ROOT, 'configs/simclr/simclr_resnet18-narrow_1xb32-10e_digits.py'),
}
TASK = 16  # images per task (the digits configs' task_size)
RANK_BATCH = TASK  # one task per iteration and rank ...
RANK_TASKS_PER_UPDATE = 2  # ... and two per update: updates span iterations
NUM_IMAGES = 96  # 3 iterations per epoch and rank: epoch 1 ends in the middle of an update
# Buffers that each rank updates from its own tasks (BatchNorm statistics): like DDP with
# mmengine's broadcast_buffers=False, they are not kept identical; parameters are.
RANK_LOCAL = re.compile(r'(running_mean|running_var|num_batches_tracked)$')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env(**extra) -> Dict[str, str]:
    # One thread: the ranks and the reference then reduce in the same order.
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PYTHONPATH=os.pathsep.join([TESTS, os.environ.get('PYTHONPATH', '')]),
               PORT=str(_free_port()))
    env.update(extra)
    return env


def _run(cmd: List[str], env: Optional[Dict[str, str]] = None, check: bool = True
         ) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=ROOT, env=env or _env(), capture_output=True, text=True,
                          timeout=900)
    if check:
        assert proc.returncode == 0, (proc.stdout[-4000:] + proc.stderr[-4000:])
    return proc


def derived_config(tmp_path, base: str, *, ranks: int = 2, name: str = 'cfg',
                   epochs: int = 2, optim: str = '', extra: str = '') -> str:
    """A config inheriting ``base`` that learns, on one process, the tasks that ``ranks``
    processes learn together.

    With 2 ranks, rank r's i-th batch holds the images at positions ``r, r + 2, ...`` of
    its 16-image block (the DefaultSampler without shuffling). The one-process config
    reads the same images in the order ``[rank 0's batch, rank 1's batch]`` and learns
    twice the tasks per update; its lr is halved and its weight decay and clipping norm
    doubled, since a one-process update sums what the ranks average. ``optim`` adds
    ``key=value`` items to ``optim_wrapper``, ``extra`` lines to the config.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(base)
    batch = RANK_BATCH if ranks == 2 else 2 * RANK_BATCH
    if ranks == 2:
        indices = NUM_IMAGES
    else:
        indices = []
        for block in range(NUM_IMAGES // (2 * RANK_BATCH)):
            for rank in (0, 1):
                indices += [2 * (block * RANK_BATCH + j) + rank for j in range(RANK_BATCH)]
    gessl = cfg.optim_wrapper.get('type') == 'BiLevelOptimWrapper'
    optimizer = cfg.optim_wrapper.optimizer
    scale = 1 if ranks == 2 else 2
    lines = [
        f'_base_ = {base!r}',
        "custom_imports = dict(imports=['gessl_mm', 'rank_state_hook'], "
        'allow_failed_imports=False)',
        f'train_dataloader = dict(batch_size={batch}, '
        "sampler=dict(type='DefaultSampler', shuffle=False), "
        f'dataset=dict(indices={indices!r}, pipeline=['
        "dict(type='MultiView', num_views=[1, 1], "
        "transforms=[[], [dict(type='RandomFlip', prob=1.0)]]), dict(type='PackInputs')]))",
        "custom_hooks = [dict(type='RandomStateHook'), dict(type='SaveRankStateHook')]",
        f'train_cfg = dict(max_epochs={epochs})',
        "default_hooks = dict(logger=dict(interval=1))",
        f'optim_wrapper = dict(optimizer=dict(lr={optimizer.lr / scale!r}, '
        f'weight_decay={optimizer.weight_decay * scale!r})'
        + (f', tasks_per_update={RANK_TASKS_PER_UPDATE * scale}, '
           f'clip_grad=dict(max_norm={cfg.optim_wrapper.clip_grad.max_norm * scale!r})'
           if gessl else '') + (f', {optim}' if optim else '') + ')',
        extra,
    ]
    path = tmp_path / f'{name}.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def dist_train(config: str, work_dir, *args: str, env=None, check: bool = True):
    return _run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(work_dir),
                 *args], env=env, check=check)


def one_process_train(config: str, work_dir) -> None:
    _run([sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir)])


def states(work_dir, when: str = 'after', ranks=(0, 1)) -> List[Dict[str, torch.Tensor]]:
    return [torch.load(osp.join(work_dir, f'rank{r}_{when}.pth')) for r in ranks]


def assert_ranks_identical(work_dir) -> None:
    rank0, rank1 = states(work_dir)
    for key, value in rank0.items():
        if not RANK_LOCAL.search(key):
            assert torch.equal(value, rank1[key]), f'{key} differs between the ranks'


def assert_trained_like(work_dir, reference_dir, atol: float = 1e-5) -> None:
    """Rank 0 of ``work_dir`` equals rank 0 of ``reference_dir``, and training moved it."""
    [state], [reference], [before] = (states(work_dir, ranks=(0, )),
                                      states(reference_dir, ranks=(0, )),
                                      states(work_dir, 'before', ranks=(0, )))
    compared = [k for k in reference if not RANK_LOCAL.search(k)]
    for key in compared:
        torch.testing.assert_close(state[key], reference[key], rtol=0, atol=atol, msg=key)
    moved = [k for k in compared if not torch.equal(state[k], before[k])]
    assert any('backbone' in k for k in moved), 'training did not change the backbone'
    return compared, moved


# ------------------------------------------------------------------------ training
# Equal to one process "to float tolerance" is checked after the first outer update: the
# digits configs amplify float rounding from step to step, plain SimCLR and GeSSL alike (two
# one-process runs with 1 and 2 threads differ by ~1% of the training movement after 2
# steps, 20-30% after 4), so later updates are compared where rounding is the same: rank
# with rank, and an interrupted two-process run with an uninterrupted one.
@pytest.fixture(scope='module')
def simclr_runs(tmp_path_factory):
    """dist_train.sh on the SimCLR GeSSL digits config: 1 epoch (the first outer update,
    then half of the second: each rank holds one task's hypergradient), 2 epochs (3
    updates), and one process on the tasks of the 1-epoch run."""
    tmp = tmp_path_factory.mktemp('simclr')
    runs = dict(tmp=tmp, stopped=tmp / 'stopped', full=tmp / 'full', one=tmp / 'one')
    runs['stopped_config'] = derived_config(tmp, CONFIGS['SimCLR'], epochs=1, name='stopped')
    proc = dist_train(runs['stopped_config'], runs['stopped'])
    runs['log'] = proc.stdout + proc.stderr
    dist_train(derived_config(tmp, CONFIGS['SimCLR'], epochs=2, name='full'), runs['full'])
    one_process_train(derived_config(tmp, CONFIGS['SimCLR'], ranks=1, epochs=1, name='one'),
                      runs['one'])
    return runs


def test_dist_train_gessl_simclr_ranks_identical_and_equal_to_one_process(simclr_runs):
    log = simclr_runs['log']
    assert 'model wrapper: GeSSLDistributedWrapper' in log
    assert 'Distributed training: True' in log
    for run in ('stopped', 'full'):
        assert_ranks_identical(simclr_runs[run])
    assert_trained_like(simclr_runs['stopped'], simclr_runs['one'])
    assert osp.isfile(simclr_runs['full'] / 'epoch_2.pth')


def test_dist_train_gessl_byol_momentum_encoder_identical(tmp_path):
    """BYOL's momentum encoder stays identical on the ranks. The whole network adapts here
    (inner_params='all'): in the heads-only mode each rank's last task of an update reads
    the target after its EMA step (docs/design.md), so N ranks match one process only up
    to those tasks."""
    whole = "inner_params='all'"
    dist = tmp_path / 'dist'
    dist_train(derived_config(tmp_path, CONFIGS['BYOL'], epochs=1, optim=whole), dist)
    one_process_train(derived_config(tmp_path, CONFIGS['BYOL'], ranks=1, epochs=1, name='one',
                                     optim=whole), tmp_path / 'one')
    assert_ranks_identical(dist)
    compared, moved = assert_trained_like(dist, tmp_path / 'one')
    assert any(k.startswith('base.target_net.') for k in compared)
    assert any(k.startswith('base.target_net.') for k in moved), 'the EMA never moved'


def test_dist_train_resume_equals_uninterrupted(simclr_runs):
    """The 1-epoch run, stopped in the middle of its second outer update, resumed with
    --resume for a second epoch: ends where the uninterrupted 2-epoch run ends."""
    stopped = simclr_runs['stopped']
    checkpoint = torch.load(stopped / 'epoch_1.pth', weights_only=False)
    assert checkpoint['optimizer']['bilevel']['tasks_accumulated'] == 1
    proc = dist_train(simclr_runs['stopped_config'], stopped, '--resume', '--cfg-options',
                      'train_cfg.max_epochs=2')
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    assert_ranks_identical(stopped)
    assert_trained_like(stopped, simclr_runs['full'], atol=1e-6)


def test_dist_test_evaluates_the_checkpoint(simclr_runs):
    """dist_test.sh: each rank encodes half of the evaluation sets; the accuracies are
    those of one process (tools/test.py)."""
    tmp, checkpoint = simclr_runs['tmp'], str(simclr_runs['full'] / 'epoch_2.pth')
    subsets = ['--cfg-options', 'feature_eval.bank.indices=201', 'feature_eval.query.indices=99']
    _run(['bash', 'tools/dist_test.sh', CONFIGS['SimCLR'], checkpoint, '2', '--out',
          str(tmp / 'dist.json'), *subsets])
    _run([sys.executable, 'tools/test.py', CONFIGS['SimCLR'], checkpoint, '--out',
          str(tmp / 'one.json'), *subsets])
    with open(tmp / 'dist.json') as f:
        dist = json.load(f)
    with open(tmp / 'one.json') as f:
        one = json.load(f)
    assert (dist['num_bank'], dist['num_query']) == (201, 99)
    # features in batches of other sizes: equal up to a vote or two on near ties
    assert abs(dist['knn_acc'] - one['knn_acc']) <= 1 / 99 + 1e-9, (dist, one)
    assert abs(dist['linear_acc'] - one['linear_acc']) <= 2 / 99 + 1e-9, (dist, one)
    assert 0.3 < dist['knn_acc'] <= 1.0, dist


def test_dist_train_plain_twin_uses_ddp(tmp_path):
    dist = tmp_path / 'dist'
    proc = dist_train(derived_config(tmp_path, CONFIGS['SimCLR plain'], epochs=1), dist)
    assert 'model wrapper: MMDistributedDataParallel' in proc.stdout + proc.stderr
    assert_ranks_identical(dist)
    before, after = states(dist, 'before', ranks=(0, ))[0], states(dist, ranks=(0, ))[0]
    assert not torch.equal(before['backbone.conv1.weight'], after['backbone.conv1.weight'])


def test_unknown_model_wrapper_is_named(tmp_path):
    config = derived_config(tmp_path, CONFIGS['SimCLR'], epochs=1,
                            extra="model_wrapper_cfg = dict(type='GeSSLDistributedWraper')")
    proc = dist_train(config, tmp_path / 'dist', check=False)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert "model_wrapper_cfg.type='GeSSLDistributedWraper'" in log
    assert 'GeSSLDistributedWrapper' in log.split('GeSSLDistributedWraper', 2)[-1]
    assert 'issubclass() arg 1 must be a class' not in log


# --------------------------------------------------------------------------- slurm
SRUN_STUB = r'''#!/usr/bin/env bash
# Stands in for Slurm's srun: records its arguments, then starts --ntasks copies of the
# command with the variables Slurm sets (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, ...).
printf '%s\n' "$@" > "$SRUN_LOG"
ntasks=1
while [ $# -gt 0 ]; do
    case "$1" in
        --ntasks=*) ntasks="${1#--ntasks=}" ;;
        -p|--partition) shift ;;
        -*) ;;
        *) break ;;
    esac
    shift
done
pids=()
for ((rank = 0; rank < ntasks; rank++)); do
    SLURM_PROCID=$rank SLURM_LOCALID=$rank SLURM_NTASKS=$ntasks SLURM_NODELIST=localhost \
        "$@" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
'''
SCONTROL_STUB = '#!/usr/bin/env bash\necho 127.0.0.1\n'


def test_slurm_train_runs_two_tasks(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', SRUN_STUB), ('scontrol', SCONTROL_STUB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = _env(GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1', SRUN_LOG=str(tmp_path / 'srun'),
               PATH=f'{bin_dir}:{os.environ["PATH"]}', SRUN_ARGS='--quotatype=auto')
    env['MASTER_PORT'] = env.pop('PORT')
    work_dir = tmp_path / 'work'
    config = derived_config(tmp_path, CONFIGS['SimCLR'], epochs=1)
    proc = _run(['bash', 'tools/slurm_train.sh', 'cpu', 'gessl', config, str(work_dir),
                 '--cfg-options', 'randomness.seed=0'], env=env)
    args = (tmp_path / 'srun').read_text().splitlines()
    assert args[:9] == ['-p', 'cpu', '--job-name=gessl', '--gres=gpu:2', '--ntasks=2',
                        '--ntasks-per-node=2', '--cpus-per-task=1', '--kill-on-bad-exit=1',
                        '--quotatype=auto']
    assert args[-5:] == [config, f'--work-dir={work_dir}', '--launcher=slurm',
                         '--cfg-options', 'randomness.seed=0']
    assert 'Distributed training: True' in proc.stdout + proc.stderr
    assert osp.isfile(work_dir / 'epoch_1.pth')
    assert_ranks_identical(work_dir)
