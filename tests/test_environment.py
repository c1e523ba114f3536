"""The environment works: imports, compiled mmcv ops, safe checkpoints, config bases."""
import copy
import importlib.metadata
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch.utils.data import Dataset

import gessl_mm
from gessl_mm.utils import compat

OPENMMLAB = ('mmengine', 'mmcv', 'mmpretrain', 'mmdet')


@pytest.fixture
def untrusted(monkeypatch) -> None:
    """Checkpoint loading as configured by default (no full-pickle opt-in)."""
    monkeypatch.delenv(compat.TRUSTED_CHECKPOINTS_ENV, raising=False)


# --------------------------------------------------------------------------- (a)
@pytest.mark.unit
def test_versions(repo_root):
    assert gessl_mm.__version__ == importlib.metadata.version('gessl_mm')
    assert gessl_mm.version_info == tuple(map(int, gessl_mm.__version__.split('.')))
    # The OpenMMLab releases are the pinned ones.
    with open(osp.join(repo_root, 'requirements', 'mminstall.txt')) as f:
        pins = dict(re.findall(r'^([\w-]+)==([\w.+]+)', f.read(), re.M))
    for name in OPENMMLAB:
        module = __import__(name)
        assert module.__version__ == pins[name], name


@pytest.mark.unit
def test_numpy_aliases():
    import numpy as np
    assert np.float is float and np.long is int
    np.testing.assert_array_equal(np.in1d([[1, 5], [3, 7]], [3, 5]), [False, True, True, False])
    compat.apply_compat()  # idempotent
    assert np.float is float


# --------------------------------------------------------------------------- (b)
@pytest.mark.unit
def test_mmcv_nms():
    from mmcv.ops import nms
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [3, 2]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.95, 0.7]))
    # IoU(box 3, box 1) = 85.5 / 119.5 = 0.72: a looser threshold keeps box 1.
    _, keep = nms(boxes, scores, iou_threshold=0.75)
    assert keep.tolist() == [3, 1, 2]


@pytest.mark.unit
def test_mmcv_roi_align_forward_backward():
    from mmcv.ops import RoIAlign
    # A horizontal ramp: bilinear sampling of it is exact, so each bin's value is
    # the mean x of its sample points.
    feat = torch.arange(8.).repeat(1, 1, 8, 1).requires_grad_()
    rois = torch.tensor([[0., 2., 2., 6., 6.]])
    roi_align = RoIAlign((2, 2), spatial_scale=1., sampling_ratio=2, aligned=True)
    out = roi_align(feat, rois)
    # aligned=True shifts by half a pixel: bins cover x in [1.5, 3.5] and [3.5, 5.5].
    torch.testing.assert_close(out, torch.tensor([[[[2.5, 4.5], [2.5, 4.5]]]]))
    out.sum().backward()
    # Every output is a convex combination of input pixels: gradients sum to #outputs.
    assert feat.grad.shape == feat.shape
    torch.testing.assert_close(feat.grad.sum(), torch.tensor(4.))
    assert feat.grad[0, 0, :, :1].abs().sum() == 0  # x = 0 lies outside the RoI
    assert feat.grad[0, 0, 2:5, 2:5].abs().sum() > 0
    # Finite differences agree with the compiled backward (double precision).
    feat = torch.rand(1, 2, 6, 6, dtype=torch.double, requires_grad=True)
    rois = torch.tensor([[0., 1.2, 0.7, 4.3, 5.1]], dtype=torch.double)
    assert torch.autograd.gradcheck(
        lambda x: roi_align(x, rois), (feat, ), eps=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- (c)
class _ToyDataset(Dataset):

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> Dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=gen), target=torch.tensor(index % 2.))


class _ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, inputs: torch.Tensor, target: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        out = self.fc(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - target)**2).mean())
        return out


class _Probe(Hook):
    """Records what the Runner restored and how many iterations it ran."""

    def __init__(self) -> None:
        self.start_iter: Optional[int] = None
        self.iters_run = 0

    def before_train(self, runner) -> None:
        self.start_iter = runner.iter
        self.weights = copy.deepcopy(runner.model.state_dict())
        self.optim_state = copy.deepcopy(runner.optim_wrapper.optimizer.state_dict())
        history = runner.message_hub.log_scalars.get('train/loss')
        self.loss_history = 0 if history is None else len(history.data[0])

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.iters_run += 1


def _runner(work_dir: str, max_iters: int, probe: Hook, name: str, **kwargs) -> Runner:
    return Runner(
        model=_ToyModel(),
        work_dir=work_dir,
        experiment_name=name,
        train_dataloader=dict(
            dataset=_ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1, 3], by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[probe],
        randomness=dict(seed=0),
        **kwargs)


@pytest.mark.integration
def test_runner_resume_with_weights_only(tmp_work_dir, untrusted, monkeypatch):
    first = _Probe()
    _runner(tmp_work_dir, 2, first, 'first').train()
    ckpt_path = osp.join(tmp_work_dir, 'iter_2.pth')
    # The checkpoint holds exactly the non-tensor types that compat allowlists.
    allowlisted = {
        e[1] if isinstance(e, tuple) else f'{e.__module__}.{e.__qualname__}'
        for e in compat.CHECKPOINT_SAFE_GLOBALS
    }
    user_globals = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()  # to see every non-default global
    try:
        unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(ckpt_path))
    finally:
        torch.serialization.add_safe_globals(user_globals)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
    assert unsafe <= allowlisted
    saved = torch.load(ckpt_path, map_location='cpu', weights_only=True)
    momentum = [s['momentum_buffer'] for s in saved['optimizer']['state'].values()]
    assert momentum and all(m.abs().sum() > 0 for m in momentum)

    weights_only: List[bool] = []
    torch_load = torch.load

    def spy(*args, **kwargs):
        weights_only.append(kwargs.get('weights_only'))
        return torch_load(*args, **kwargs)

    monkeypatch.setattr(torch, 'load', spy)
    second = _Probe()
    runner = _runner(tmp_work_dir, 4, second, 'second', resume=True)
    initial = copy.deepcopy(runner.model.state_dict())
    assert not torch.equal(initial['fc.weight'], saved['state_dict']['fc.weight'])
    runner.train()

    assert weights_only == [True]
    assert second.start_iter == 2 and second.iters_run == 2 and runner.iter == 4
    assert first.loss_history == 0 and second.loss_history == 2  # message hub restored
    for key, value in saved['state_dict'].items():
        torch.testing.assert_close(second.weights[key], value)
    restored = second.optim_state
    for index, state in saved['optimizer']['state'].items():
        torch.testing.assert_close(restored['state'][index]['momentum_buffer'],
                                   state['momentum_buffer'])
    # The scheduler state came back too: milestone 1 passed, lr = 0.1 * 0.1.
    assert restored['param_groups'][0]['lr'] == pytest.approx(0.01)
    assert osp.isfile(osp.join(tmp_work_dir, 'iter_4.pth'))


# --------------------------------------------------------------------------- (d)
_SIDE_EFFECTS: List[str] = []


def _side_effect(token: str) -> str:
    _SIDE_EFFECTS.append(token)
    return token


class _Payload:
    """Unpickling this runs ``_side_effect``: a stand-in for a malicious file."""

    def __reduce__(self):
        return _side_effect, ('executed', )


class _GetattrEscape:
    """Reaches for ``HistoryBuffer.__init__`` (then ``__globals__``) via getattr."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, '__init__')


@pytest.mark.unit
def test_untrusted_checkpoint_is_refused(tmp_path, untrusted, monkeypatch):
    path = str(tmp_path / 'untrusted.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(2)), meta=dict(x=_Payload())), path)
    _SIDE_EFFECTS.clear()
    with pytest.raises(compat.UnsafeCheckpointError, match=re.escape(path)) as info:
        _load_checkpoint(path, map_location='cpu')
    assert compat.TRUSTED_CHECKPOINTS_ENV in str(info.value)
    assert _SIDE_EFFECTS == []

    escape = str(tmp_path / 'escape.pth')
    torch.save(dict(meta=_GetattrEscape()), escape)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        _load_checkpoint(escape, map_location='cpu')

    # Trusted: explicitly, or for every local load through the environment variable.
    assert compat.load_trusted_checkpoint(path)['meta']['x'] == 'executed'
    monkeypatch.setenv(compat.TRUSTED_CHECKPOINTS_ENV, '1')
    assert _load_checkpoint(path, map_location='cpu')['meta']['x'] == 'executed'
    assert _SIDE_EFFECTS == ['executed', 'executed']


# --------------------------------------------------------------------------- (e)
@pytest.mark.unit
def test_truncated_checkpoint_names_file(tmp_path, untrusted):
    path = tmp_path / 'truncated.pth'
    torch.save(dict(state_dict=dict(w=torch.randn(64, 64))), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match=f'cannot read checkpoint {re.escape(str(path))}'):
        _load_checkpoint(str(path), map_location='cpu')
    with pytest.raises(RuntimeError, match=re.escape(str(path))):
        compat.load_trusted_checkpoint(str(path))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        _load_checkpoint(str(tmp_path / 'missing.pth'))


# --------------------------------------------------------------------------- (f)
@pytest.mark.integration
def test_mmpretrain_config_base(tmp_path):
    from mmengine.model import revert_sync_batchnorm
    from mmpretrain.models import SimCLR
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg_file = tmp_path / 'simclr_gessl.py'
    cfg_file.write_text(
        "_base_ = 'mmpretrain::simclr/simclr_resnet50_16xb256-coslr-200e_in1k.py'\n"
        "custom_imports = dict(imports=['gessl_mm'], allow_failed_imports=False)\n")
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.type == 'SimCLR' and cfg.model.backbone.depth == 50
    assert cfg.custom_imports.imports == ['gessl_mm']
    init_default_scope('mmpretrain')
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    assert isinstance(model, SimCLR)
    views = [torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)]
    losses = model(views, [DataSample() for _ in range(2)], mode='loss')
    assert torch.isfinite(losses['loss']) and losses['loss'] > 0


@pytest.mark.integration
def test_mmdet_config_base(tmp_path):
    from mmdet.models import FasterRCNN
    from mmdet.registry import MODELS
    cfg_file = tmp_path / 'faster_rcnn.py'
    cfg_file.write_text("_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'\n")
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.type == 'FasterRCNN'
    assert cfg.model.roi_head.bbox_head.num_classes == 80
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    assert isinstance(model, FasterRCNN)
    # The RoI extractor uses mmcv's compiled RoIAlign.
    assert type(model.roi_head.bbox_roi_extractor.roi_layers[0]).__name__ == 'RoIAlign'
