"""tools/dist_train.sh, dist_test.sh and slurm_train.sh: their syntax and the
torchrun / srun commands they build (with stand-ins for python and srun)."""
import os
import os.path as osp
import subprocess

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures('mmpretrain_scope')]


ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')


# ---------------------------------------------------------------- shell launchers
SCRIPTS = ('dist_train.sh', 'dist_test.sh', 'slurm_train.sh')


@pytest.mark.parametrize('script', SCRIPTS)
def test_launcher_syntax(script):
    path = osp.join(TOOLS, script)
    assert os.access(path, os.X_OK), f'{script} is not executable'
    subprocess.run(['bash', '-n', path], check=True)


def _fake(tmp_path, name: str) -> dict:
    """An environment whose ``name`` on PATH prints its arguments, one a line."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / name
    fake.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n'
                    'echo "PYTHONPATH=$PYTHONPATH"\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ('NNODES', 'NODE_RANK', 'PORT', 'MASTER_ADDR', 'PYTHON', 'GPUS',
                        'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'PYTHONPATH')}
    env['PATH'] = f'{bin_dir}:{env["PATH"]}'
    return env


def _launch(script: str, *args, env: dict):
    proc = subprocess.run(['bash', osp.join('tools', script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    python_path = lines.pop()
    assert osp.realpath(python_path.split('=', 1)[1].split(':')[0]) == ROOT
    return lines


def test_dist_train_and_test_build_torchrun_command(tmp_path):
    env = _fake(tmp_path, 'python')
    torchrun = ['-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0',
                '--master_addr=127.0.0.1', '--nproc_per_node=4', '--master_port=29500']
    assert _launch('dist_train.sh', 'cfg.py', '4', '--work-dir', 'a dir', env=env) == [
        *torchrun, 'tools/train.py', 'cfg.py', '--launcher', 'pytorch', '--work-dir', 'a dir']

    env.update(NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.2', PORT='29501')
    assert _launch('dist_test.sh', 'cfg.py', 'ckpt.pth', '8', '--k', '20', env=env) == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1',
        '--master_addr=10.0.0.2', '--nproc_per_node=8', '--master_port=29501',
        'tools/test.py', 'cfg.py', 'ckpt.pth', '--launcher', 'pytorch', '--k', '20']


def test_slurm_train_builds_srun_command(tmp_path):
    env = _fake(tmp_path, 'srun')
    env.update(GPUS='16', SRUN_ARGS='--quotatype=auto --time=1:00:00')
    assert _launch('slurm_train.sh', 'gpu', 'job', 'cfg.py', 'work', '--amp', env=env) == [
        '-p', 'gpu', '--job-name=job', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
        '--cpus-per-task=5', '--kill-on-bad-exit=1', '--quotatype=auto', '--time=1:00:00',
        'python', '-u', 'tools/train.py', 'cfg.py', '--work-dir=work', '--launcher=slurm',
        '--amp']
