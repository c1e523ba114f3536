"""The GeSSL step is bit-for-bit what it was before the redesign of issue 14.

``record_gessl_step.py`` trains every tiny base x hypergradient method x inner-loop mode (and
variants of the options) for a few outer updates, once with the package as it was at
:data:`REFERENCE_COMMIT` (extracted from git history) and once with the working tree's, each in
a fresh one-thread process on this machine, so the float rounding is the same. Every final
weight, buffer (BatchNorm statistics, momentum encoders, queues), partial hypergradient,
logged value and error must be identical. A change that alters the numbers on purpose moves
:data:`REFERENCE_COMMIT` to the commit that made it, and says so.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

# The last commit before the redesign (issue 14) of the step.
REFERENCE_COMMIT = '55e6f10b36d0aae297f16ff4d1e824174cdd0e56'
HERE = osp.dirname(osp.abspath(__file__))
RECORDER = osp.join(HERE, 'record_gessl_step.py')
sys.path.insert(0, HERE)
from record_gessl_step import runs  # noqa: E402

pytestmark = pytest.mark.integration


def _record(out: str, package_root: str = None) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    cmd = [sys.executable, RECORDER, out] + (['--package-root', package_root]
                                             if package_root else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return torch.load(out, weights_only=False)


@pytest.fixture(scope='module')
def recordings(repo_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('regression')
    reference_root = tmp / 'reference'
    reference_root.mkdir()
    archive = subprocess.run(['git', '-C', repo_root, 'archive', REFERENCE_COMMIT, 'gessl_mm'],
                             capture_output=True)
    assert archive.returncode == 0, (
        f'the reference commit {REFERENCE_COMMIT} is not in this clone\'s history '
        f'(git archive: {archive.stderr.decode().strip()}); a full clone has it')
    subprocess.run(['tar', '-x', '-C', str(reference_root)], input=archive.stdout, check=True)
    reference = _record(str(tmp / 'reference.pt'), str(reference_root))
    current = _record(str(tmp / 'current.pt'))
    assert reference['package'] == str(reference_root / 'gessl_mm')
    assert current['package'] == osp.join(repo_root, 'gessl_mm')
    return reference, current


def _differences(reference: dict, current: dict) -> list:
    if reference['error'] != current['error']:
        return [f"error: {reference['error']!r} -> {current['error']!r}"]
    out = []
    if reference['state'].keys() != current['state'].keys():
        out.append(f"state keys: {sorted(set(reference['state']) ^ set(current['state']))}")
    out += [f'state {k}' for k, v in reference['state'].items()
            if k in current['state'] and not torch.equal(v, current['state'][k])]
    if len(reference['logs']) != len(current['logs']):
        out.append('number of logged iterations')
    for i, (old, new) in enumerate(zip(reference['logs'], current['logs'])):
        if old.keys() != new.keys():
            out.append(f'iteration {i} log keys: {sorted(set(old) ^ set(new))}')
        out += [f'iteration {i} log {k}: {old[k].item()} -> {new[k].item()}' for k in old
                if k in new and not torch.equal(old[k], new[k])]
    grads = zip(reference['grads'], current['grads'])
    out += [f'partial hypergradient {i}' for i, (old, new) in enumerate(grads)
            if (old is None) != (new is None) or old is not None and not torch.equal(old, new)]
    if reference['hypergrad_norm'] != current['hypergrad_norm']:
        out.append(f"hypergrad_norm: {reference['hypergrad_norm']} -> "
                   f"{current['hypergrad_norm']}")
    return out


@pytest.mark.parametrize('name', list(runs()))
def test_step_is_bit_identical_to_the_reference(recordings, name):
    reference, current = recordings
    assert _differences(reference[name], current[name]) == []
    # the recording is not vacuous: the run trained, or stopped on an error both agree on
    assert reference[name]['logs'] or reference[name]['error']
