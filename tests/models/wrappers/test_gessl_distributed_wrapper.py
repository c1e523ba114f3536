"""GeSSL under torch.distributed, driven by hand (2 CPU processes, gloo): equal to one
process on the same tasks, the ranks identical, a failure on one rank stops all; and the
Runner finds the wrapper. The launch scripts themselves: tests/tools/test_dist_launchers.py."""
import contextlib
import os
import subprocess
import sys

import pytest
import torch

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(TESTS, 'dist_worker.py')


# One thread everywhere: the reference and the ranks then reduce in the same order and
# agree bit for bit (with more threads, float rounding differs run to run).
ENV = dict(os.environ, OMP_NUM_THREADS='1')


def _torchrun(out_dir, base, port, *extra, check=True):
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
           '--master_port', str(port), WORKER, str(out_dir), base, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.multiprocess
@pytest.mark.multiprocess
@pytest.mark.parametrize('base,port', [('SimCLR', 29611), ('BYOL', 29612)])
def test_two_ranks_equal_one_process_on_the_same_tasks(tmp_path, base, port):
    _torchrun(tmp_path, base, port)
    single = subprocess.run([sys.executable, WORKER, str(tmp_path), base],
                            capture_output=True, text=True, env=ENV, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1)]
    reference = torch.load(tmp_path / 'single.pth')
    for name, value in reference.items():
        # ranks identical (online weights and, for BYOL, the momentum encoder) ...
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        # ... and equal to one process that learned both tasks per update
        torch.testing.assert_close(ranks[0][name], value, rtol=0, atol=1e-5, msg=name)
    moved = [n for n in reference if n.startswith('base.backbone')]
    assert moved


@pytest.mark.multiprocess
@pytest.mark.multiprocess
def test_a_non_finite_loss_on_one_rank_stops_every_rank(tmp_path):
    """Rank 1's loss is NaN: both ranks stop at the update (no deadlock), nothing saved."""
    proc = _torchrun(tmp_path, 'SimCLR', 29613, '1', check=False)
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert 'non-finite loss (nan) at inner step 1' in log  # rank 1, naming the step
    assert 'a non-finite loss on another rank' in log  # rank 0
    assert not list(tmp_path.glob('rank*.pth'))


@pytest.mark.unit
@pytest.mark.parametrize('scope', [None, 'mmengine', 'mmpretrain', 'mmdet'])
def test_runner_finds_the_wrapper_in_every_scope(scope):
    """mmengine's Runner looks the wrapper up in its root registry without a scope, then
    builds it in the config's default scope: both find GeSSLDistributedWrapper."""
    from mmengine.registry import MODEL_WRAPPERS, DefaultScope

    from gessl_mm.models import GeSSLDistributedWrapper
    assert MODEL_WRAPPERS.get('GeSSLDistributedWrapper') is GeSSLDistributedWrapper
    context = (DefaultScope.overwrite_default_scope(scope) if scope else
               contextlib.nullcontext())
    with context:
        import mmdet.registry  # noqa: F401  (the mmdet scope's registries)
        built = MODEL_WRAPPERS.build(dict(type='GeSSLDistributedWrapper'),
                                     default_args=dict(module=torch.nn.Linear(1, 1)))
    assert isinstance(built, GeSSLDistributedWrapper)


@pytest.mark.unit
def test_an_unknown_wrapper_is_named_before_the_runner_fails():
    from mmengine.runner import Runner
    with pytest.raises(KeyError, match=r"model_wrapper_cfg.type='DDPWrapper' is not a "
                       r'registered model wrapper \(known: .*GeSSLDistributedWrapper'):
        Runner.wrap_model(None, dict(type='DDPWrapper'), torch.nn.Linear(1, 1))
