"""gessl_mm.utils.checkpoint: the one reader of checkpoints and finder of the backbone in
them (tools/test.py, few_shot.py, sigma_measure.py, extract_backbone.py, StrictPretrained)."""
import pytest
import torch
from torch import nn

from gessl_mm.utils.checkpoint import (
    BACKBONE_PREFIXES,
    CheckpointError,
    backbone_state,
    load_backbone,
    read_checkpoint,
)

pytestmark = pytest.mark.unit


def _backbone() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))


class Plain(nn.Module):
    """The layout of an mmpretrain self-supervised model: backbone., neck."""

    def __init__(self):
        super().__init__()
        self.backbone, self.neck = _backbone(), nn.Linear(2, 2)


class GeSSLLike(nn.Module):
    """The layout of a GeSSL model: the base algorithm under base., a task head."""

    def __init__(self):
        super().__init__()
        self.base, self.task_head = Plain(), nn.Linear(2, 1)


def _random_state(module: nn.Module, seed: int = 1) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.rand(v.shape, generator=g) if v.is_floating_point() else v + 3
            for k, v in module.state_dict().items()}


def _equal(module: nn.Module, state: dict, prefix: str = '') -> bool:
    return all(torch.equal(v, state[prefix + k]) for k, v in module.state_dict().items())


def test_plain_mmpretrain_checkpoint(tmp_path):
    state = _random_state(Plain())
    path = str(tmp_path / 'simclr.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=3), optimizer=dict(lr=0.1)), path)
    tensors, meta = read_checkpoint(path)
    assert list(tensors) == list(state) and meta == dict(epoch=3)
    prefix, backbone = backbone_state(tensors, path)
    assert prefix == 'backbone.' and set(backbone) == set(_backbone().state_dict())

    for model, at in ((Plain(), 'backbone.'), (GeSSLLike(), 'base.backbone.')):
        summary = load_backbone(model, path)
        assert "loaded 7 backbone tensors ('backbone.*')" in summary and path in summary
        assert _equal(model.get_submodule(at[:-1]), state, 'backbone.')
    assert 'and 2 others' in load_backbone(Plain(), path)  # the neck: same layout


def test_gessl_checkpoint_saved_from_ddp(tmp_path):
    state = _random_state(GeSSLLike())
    path = str(tmp_path / 'gessl.pth')
    torch.save(dict(state_dict={'module.' + k: v for k, v in state.items()}), path)
    tensors, meta = read_checkpoint(path)
    assert set(tensors) == set(state) and meta == {}  # module. removed
    prefix, backbone = backbone_state(tensors, path)
    assert prefix == 'base.backbone.' == BACKBONE_PREFIXES[0]
    model = GeSSLLike()
    assert 'and 4 others' in load_backbone(model, path)  # neck and task head
    assert _equal(model, state)
    plain = Plain()  # a GeSSL checkpoint's backbone into the plain twin
    load_backbone(plain, path)
    assert _equal(plain.backbone, state, 'base.backbone.')


def test_extracted_backbone_file(tmp_path):
    state = _random_state(_backbone())
    path = str(tmp_path / 'backbone.pth')
    torch.save(dict(state_dict=state, meta=dict(source_prefix='base.backbone.')), path)
    tensors, _ = read_checkpoint(path)
    prefix, backbone = backbone_state(tensors, path)
    assert prefix == '' and list(backbone) == list(state)
    with pytest.raises(CheckpointError, match=r"no backbone weights in .*backbone\.pth: "
                       r"expected keys under 'base\.backbone\.' or 'backbone\.', found '0\.'"):
        backbone_state(tensors, path, bare=False)  # extract_backbone.py: IN must have one
    for model, at in ((_backbone(), ''), (GeSSLLike(), 'base.backbone.')):
        assert 'backbone tensors (bare backbone keys) and 0 others' in load_backbone(model, path)
        assert _equal(model.get_submodule(at[:-1]), state)


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(CheckpointError, match='checkpoint .*missing.pth not found'):
        read_checkpoint(missing)
    with pytest.raises(CheckpointError, match='missing.pth'):
        load_backbone(Plain(), missing)

    garbage = tmp_path / 'garbage.pth'
    garbage.write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match='cannot read checkpoint .*garbage.pth'):
        read_checkpoint(str(garbage))

    listed = str(tmp_path / 'list.pth')
    torch.save([torch.ones(1)], listed)
    with pytest.raises(CheckpointError, match=r'list\.pth is not a checkpoint .*holds a list'):
        read_checkpoint(listed)
    torch.save(dict(state_dict=[torch.ones(1)]), listed)
    with pytest.raises(CheckpointError, match=r"list\.pth .*'state_dict' is a list"):
        read_checkpoint(listed)


def test_backbone_that_does_not_fit(tmp_path):
    path = str(tmp_path / 'neck_only.pth')
    torch.save(dict(state_dict={'base.neck.weight': torch.ones(2, 2)}), path)
    with pytest.raises(CheckpointError) as error:
        load_backbone(GeSSLLike(), path)
    assert 'neck_only.pth holds none of the backbone weights' in str(error.value)
    assert "'base.neck.' (1)" in str(error.value)

    wide = nn.Sequential(nn.Conv2d(1, 4, 1), nn.BatchNorm2d(4))
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in wide.state_dict().items()}),
               path)
    with pytest.raises(CheckpointError, match='neck_only.pth does not fit the backbone'):
        load_backbone(Plain(), path)
    partial = {f'backbone.{k}': v for k, v in _backbone().state_dict().items()
               if not k.startswith('1.')}
    torch.save(dict(state_dict=partial), path)
    with pytest.raises(CheckpointError, match=r'(?s)does not fit .*Missing .*"1\.weight"'):
        load_backbone(Plain(), path)
