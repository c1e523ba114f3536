"""Detection transfer (configs/benchmarks/mmdet): the pretrained weights arrive, detectors
train and evaluate under mmdet's Runner, mismatches fail loudly.

Every detector here comes from a real config of configs/benchmarks/mmdet, loaded with
``Config.fromfile`` and shrunk (tiny ResNet-50 / ViT widths, 64x64 images, a few
iterations) on generated COCO- and VOC-format datasets; the pretrained weights are a
GeSSL checkpoint made in the test (``base.backbone.*`` keys).
"""
import copy
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Dict, List

import cv2
import numpy as np
import pytest
import torch
from helpers import PREPROCESSOR, TINY_VIT_ARCH
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

import gessl_mm.mmdet_utils  # noqa: F401  (registers StrictPretrained, C4ResLayer, ...)
from gessl_mm.mmdet_utils import (
    PretrainedMismatchError,
    find_strict_pretrained,
    load_pretrained_strict,
    switch_norm,
)

# mmdet's mask heads index with uint8 masks (mmdet 3.3.0 with torch >= 2.x), harmless.
pytestmark = pytest.mark.filterwarnings('ignore:indexing with dtype torch.uint8:UserWarning')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', 'benchmarks', 'mmdet')
C4_VOC0712 = osp.join(CONFIGS, 'faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc0712.py')
C4_VOC07 = osp.join(CONFIGS, 'faster-rcnn_r50-c4_gessl-pre_8xb2-ms-24k_voc07.py')
C4_COCO = osp.join(CONFIGS, 'mask-rcnn_r50-c4_gessl-pre_8xb2-ms-1x_coco.py')
FPN_1X = osp.join(CONFIGS, 'mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-1x_coco.py')
FPN_2X = osp.join(CONFIGS, 'mask-rcnn_r50-fpn_gessl-pre_8xb2-ms-2x_coco.py')
VIT = osp.join(CONFIGS, 'mask-rcnn_vit-base-p16-simplefpn_gessl-pre_8xb2-ms-1x_coco.py')
ALL_CONFIGS = (C4_VOC0712, C4_VOC07, C4_COCO, FPN_1X, FPN_2X, VIT)
TOOLS = osp.join(REPO, 'tools', 'benchmarks', 'mmdet')

SIZE = 64  # images are SIZE x SIZE
CLASSES = ('cat', 'dog', 'car')  # COCO categories; VOC class names too
# Tiny ResNet-50: the same keys as ResNet-50 (bottlenecks 3-4-6-3), 1/8 of its width.
TINY_R50 = dict(depth=50, stem_channels=8, base_channels=8)
R50_WIDTHS = [32, 64, 128, 256]  # outputs of layer1..4 of TINY_R50


# ----------------------------------------------------------------------------- data
def _draw(rng: np.random.Generator):
    """An image with 1-3 objects: (image, [(class index, polygon [x0, y0, ...])])."""
    img = np.full((SIZE, SIZE, 3), 40, np.uint8) + rng.integers(0, 20, (SIZE, SIZE, 3),
                                                                 dtype=np.uint8)
    objects = []
    for _ in range(int(rng.integers(1, 4))):
        label = int(rng.integers(len(CLASSES)))
        w, h = rng.integers(12, 36, 2)
        x0, y0 = rng.integers(0, SIZE - w), rng.integers(0, SIZE - h)
        if label == 1:  # triangles
            pts = [x0, y0 + h, x0 + w / 2, y0, x0 + w, y0 + h]
        else:  # rectangles, small or large
            pts = [x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h]
        colour = [(0, 0, 230), (0, 220, 0), (230, 0, 0)][label]
        cv2.fillPoly(img, [np.array(pts, np.float32).reshape(-1, 2).astype(np.int32)],
                     colour)
        objects.append((label, [float(p) for p in pts]))
    return img, objects


def _bbox(poly: List[float]) -> List[float]:
    xs, ys = poly[0::2], poly[1::2]
    return [min(xs), min(ys), max(xs), max(ys)]


def make_coco(root: str, splits: Dict[str, int], seed: int = 0) -> None:
    """``root/{split}/*.jpg`` and ``root/annotations/instances_{split}.json``."""
    rng = np.random.default_rng(seed)
    ann_id = 0
    for split, num in splits.items():
        images, annotations = [], []
        for i in range(num):
            img, objects = _draw(rng)
            name = f'{split}_{i:03d}.jpg'
            cv2.imwrite(osp.join(_mkdir(root, split), name), img)
            images.append(dict(id=i, file_name=name, width=SIZE, height=SIZE))
            for label, poly in objects:
                x0, y0, x1, y1 = _bbox(poly)
                area = float(cv2.contourArea(np.array(poly, np.float32).reshape(-1, 2)))
                ann_id += 1
                annotations.append(dict(id=ann_id, image_id=i, category_id=label + 1,
                                        bbox=[x0, y0, x1 - x0, y1 - y0], area=area,
                                        segmentation=[poly], iscrowd=0))
        coco = dict(images=images, annotations=annotations,
                    categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)])
        with open(osp.join(_mkdir(root, 'annotations'), f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)


def make_voc(root: str, year: str, splits: Dict[str, int], seed: int = 0) -> None:
    """``root/VOC{year}/{JPEGImages,Annotations,ImageSets/Main/{split}.txt}``."""
    rng = np.random.default_rng(seed)
    base = osp.join(root, f'VOC{year}')
    for split, num in splits.items():
        ids = []
        for i in range(num):
            img, objects = _draw(rng)
            img_id = f'{year}_{split}_{i:03d}'
            ids.append(img_id)
            cv2.imwrite(osp.join(_mkdir(base, 'JPEGImages'), f'{img_id}.jpg'), img)
            ann = ET.Element('annotation')
            size = ET.SubElement(ann, 'size')
            for key, value in (('width', SIZE), ('height', SIZE), ('depth', 3)):
                ET.SubElement(size, key).text = str(value)
            for label, poly in objects:
                obj = ET.SubElement(ann, 'object')
                ET.SubElement(obj, 'name').text = CLASSES[label]
                ET.SubElement(obj, 'difficult').text = '0'
                box = ET.SubElement(obj, 'bndbox')
                # VOC boxes are 1-based pixel indices
                for key, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), _bbox(poly)):
                    ET.SubElement(box, key).text = str(int(round(value)) + 1)
            ET.ElementTree(ann).write(osp.join(_mkdir(base, 'Annotations'), f'{img_id}.xml'))
        with open(osp.join(_mkdir(base, 'ImageSets', 'Main'), f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ids) + '\n')


def _mkdir(*parts: str) -> str:
    path = osp.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('coco'))
    make_coco(root, {'train2017': 24, 'val2017': 8})
    return root


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('voc') / 'VOCdevkit')
    make_voc(root, '2007', {'trainval': 24, 'test': 8}, seed=1)
    make_voc(root, '2012', {'trainval': 8}, seed=2)
    return root


# ---------------------------------------------------------------------- checkpoints
def _randomise_norms(model: torch.nn.Module, seed: int = 0) -> None:
    """Non-default values everywhere, so that 'equal to the checkpoint' means loaded."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            for t in (module.weight, module.bias, module.running_mean):
                t.data.copy_(torch.randn(t.shape, generator=g))
            module.running_var.data.copy_(torch.rand(module.running_var.shape,
                                                     generator=g) + 0.5)
            module.num_batches_tracked.fill_(7)


def make_gessl_checkpoint(path: str, backbone: dict, feat: int, base: str = 'SimCLR') -> dict:
    """Save a GeSSL model (``base.backbone.*``) whose base has ``backbone``."""
    MessageHub.get_current_instance().update_info('max_iters', 100)
    mlp = dict(type='NonLinearNeck', in_channels=feat, hid_channels=32, out_channels=16,
               num_layers=2, with_avg_pool=base == 'SimCLR', norm_cfg=dict(type='BN1d'))
    if base == 'SimCLR':
        base_cfg = dict(type='SimCLR', backbone=backbone, neck=mlp,
                        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                                  temperature=0.1))
    else:  # MoCoV3 (ViT)
        mlp.update(with_last_bn=False)
        predictor = dict(mlp, in_channels=16)
        base_cfg = dict(type='MoCoV3', base_momentum=0.01, backbone=backbone, neck=mlp,
                        head=dict(type='MoCoV3Head', temperature=0.2, predictor=predictor,
                                  loss=dict(type='CrossEntropyLoss', loss_weight=0.4)))
    cfg = dict(type='GeSSL', base=base_cfg, data_preprocessor=dict(task_size=4, **PREPROCESSOR))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = PRETRAIN_MODELS.build(cfg)
    model.init_weights()
    _randomise_norms(model)
    state = model.state_dict()
    torch.save({'state_dict': state, 'meta': {}}, path)
    return state


@pytest.fixture(scope='module')
def r50_ckpt(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('ckpt') / 'gessl_tiny_r50.pth')
    state = make_gessl_checkpoint(
        path, dict(type='ResNet', out_indices=(3, ), norm_cfg=dict(type='BN'), **TINY_R50),
        feat=R50_WIDTHS[-1])
    return path, state


@pytest.fixture(scope='module')
def vit_ckpt(tmp_path_factory):
    """GeSSL around MoCo v3 with a tiny ViT pretrained at 32x32 (2x2 patches)."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'gessl_tiny_vit.pth')
    backbone = dict(type='MoCoV3ViT', arch=TINY_VIT_ARCH, img_size=32, patch_size=16,
                    stop_grad_conv1=True)
    state = make_gessl_checkpoint(path, backbone, feat=TINY_VIT_ARCH['embed_dims'],
                                  base='MoCoV3')
    return path, state


def backbone_state(state: dict, prefix: str = 'base.backbone.') -> Dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


# -------------------------------------------------------------------------- configs
def _shrink_pipeline(pipeline: list) -> None:
    """Every resize of a pipeline to SIZE x SIZE (in place)."""
    for i, step in enumerate(pipeline):
        if step['type'] in ('Resize', 'RandomChoiceResize', 'RandomResize'):
            pipeline[i] = dict(type='Resize', scale=(SIZE, SIZE), keep_ratio=True)


def _loader(loader: dict, batch_size: int) -> None:
    loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    datasets = [loader['dataset']]
    while datasets:
        dataset = datasets.pop()
        if 'pipeline' in dataset:
            _shrink_pipeline(dataset['pipeline'])
        datasets += list(dataset.get('datasets', [])) + \
            ([dataset['dataset']] if 'dataset' in dataset else [])


def tiny_cfg(path: str, work_dir: str, checkpoint: str, one_device: bool = True) -> Config:
    """The config at ``path`` with a tiny model, 64x64 images and, for ``one_device``, BN
    instead of the configs' SyncBN."""
    cfg = Config.fromfile(path)
    cfg.work_dir = work_dir
    cfg.experiment_name = osp.basename(work_dir)
    cfg.visualizer.name = f'visualizer_{osp.basename(work_dir)}'
    model = cfg.model
    # The pretrained weights: the config's own StrictPretrained init_cfg.
    assert [p for p, _ in find_strict_pretrained(model)] == ['init_cfg']
    model.init_cfg.checkpoint = checkpoint
    if one_device:
        assert switch_norm(model)
        assert not [p for p, n in _walk_norms(model) if n == 'SyncBN']
    if model.backbone.type == 'ResNet':
        model.backbone.update(TINY_R50)
    # fewer RoIs than the 512 per image of the configs: CPU time goes to the RoI heads
    model.train_cfg.rpn.sampler.num = 32
    model.train_cfg.rpn_proposal.update(nms_pre=100, max_per_img=50)
    model.train_cfg.rcnn.sampler.num = 16
    model.test_cfg.rpn.update(nms_pre=100, max_per_img=50)
    model.test_cfg.rcnn.max_per_img = 20
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _loader(cfg[key], batch_size=4)
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    return cfg


def _coco_data(cfg: Config, root: str) -> None:
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train2017' if key == 'train_dataloader' else 'val2017'
        cfg[key].dataset.update(data_root=root, metainfo=dict(classes=CLASSES),
                                ann_file=f'annotations/instances_{split}.json',
                                data_prefix=dict(img=f'{split}/'))
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key].ann_file = osp.join(root, 'annotations', 'instances_val2017.json')
    # one epoch of 6 iterations (the config's epoch-based loop and schedulers)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)


def _fpn_heads(model, width: int = 32) -> None:
    model.neck.update(in_channels=R50_WIDTHS, out_channels=width)
    _rpn_roi_heads(model, width, width, num_classes=len(CLASSES))


def _rpn_roi_heads(model, rpn_in: int, roi_in: int, num_classes: int = None) -> None:
    model.rpn_head.update(in_channels=rpn_in, feat_channels=32)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = rpn_in
    roi.bbox_head.update(in_channels=roi_in)
    if roi.bbox_head.type == 'Shared4Conv1FCBBoxHead':
        roi.bbox_head.update(conv_out_channels=32, fc_out_channels=64)
    if num_classes:
        roi.bbox_head.num_classes = num_classes
    if roi.get('mask_head'):
        if roi.get('mask_roi_extractor'):
            roi.mask_roi_extractor.out_channels = rpn_in
        roi.mask_head.update(in_channels=roi_in, conv_out_channels=32)
        if num_classes:
            roi.mask_head.num_classes = num_classes


def build_detector(cfg: Config):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model


def assert_loaded(tensors: Dict[str, torch.Tensor], expected: Dict[str, torch.Tensor],
                  what: str) -> None:
    assert tensors.keys() == expected.keys(), what
    for key, value in expected.items():
        assert torch.equal(tensors[key], value), f'{what}: {key} is not the checkpoint\'s'


def _run(cfg: Config, tmp_path) -> dict:
    """Train and test through tools/benchmarks/mmdet/train_and_test.py's functions."""
    entry = _load_entry()
    path = str(tmp_path / 'tiny_config.py')
    cfg.dump(path)
    args = entry.parse_args([path, '--work-dir', cfg.work_dir, '--norm', 'BN'])
    return entry.train_and_test(entry.merge_args(Config.fromfile(path), args))


def _load_entry():
    spec = importlib.util.spec_from_file_location(
        'gessl_train_and_test', osp.join(TOOLS, 'train_and_test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _in_unit(metrics: dict, keys) -> None:
    for key in keys:
        assert key in metrics, f'{key} missing from {sorted(metrics)}'
        assert 0.0 <= metrics[key] <= 1.0, (key, metrics[key])


# ---------------------------------------------------------------------------- tests
@pytest.mark.integration
@pytest.mark.parametrize('path', ALL_CONFIGS, ids=osp.basename)
def test_configs_follow_the_protocol(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['gessl_mm', 'gessl_mm.mmdet_utils'],
                                      allow_failed_imports=False)
    (where, init), = find_strict_pretrained(cfg.model)
    assert where == 'init_cfg' and init.prefix[0] == 'base.backbone.'
    assert cfg.model.backbone.init_cfg is None  # no ImageNet / caffe weights underneath
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].collate_fn.type == 'pseudo_collate'  # also under tools/train.py
    norms = [p for p, n in _walk_norms(cfg.model) if n == 'SyncBN']
    if 'vit' in path:
        assert cfg.model.backbone.type == 'mmpretrain.VisionTransformer'
        assert cfg.model.backbone.out_type == 'featmap'
        assert cfg.model.neck.type == 'SimpleFeaturePyramid'
    else:
        backbone = cfg.model.backbone
        assert (backbone.norm_cfg.type, backbone.norm_eval, backbone.frozen_stages,
                backbone.style) == ('SyncBN', False, -1, 'pytorch')
        assert 'backbone.norm_cfg' in norms
    if '-c4' in path:
        head = cfg.model.roi_head.shared_head
        assert (head.type, head.norm_cfg.type, head.norm_eval, head.extra_norm) == \
            ('C4ResLayer', 'SyncBN', False, True)
        assert init.mapping == {'layer4.': 'roi_head.shared_head.layer4.', '': 'backbone.'}
        assert cfg.model.data_preprocessor.bgr_to_rgb
    else:
        assert init.mapping == {'': 'backbone.'}
    if 'voc' in path:
        assert cfg.train_cfg.max_iters == 24000
        assert cfg.param_scheduler[-1].milestones == [18000, 22000]
        assert cfg.train_dataloader.batch_size == 2
        assert cfg.test_evaluator.type == 'VOCMetric' and len(cfg.test_evaluator.iou_thrs) == 10
        assert cfg.test_evaluator.eval_mode == '11points'
        assert cfg.test_dataloader.dataset.ann_file == 'VOC2007/ImageSets/Main/test.txt'
        assert cfg.val_dataloader.dataset.data_root == 'data/VOCdevkit/'
    else:
        epochs, milestones = (24, [16, 22]) if '2x' in path else (12, [8, 11])
        assert cfg.train_cfg.max_epochs == epochs
        assert cfg.param_scheduler[-1].milestones == milestones
        assert cfg.test_evaluator.metric == ['bbox', 'segm']
        assert cfg.val_dataloader.dataset.data_root == 'data/coco/'
    # The single-device switch leaves no SyncBN.
    switch_norm(cfg.model)
    assert not [p for p, n in _walk_norms(cfg.model) if n == 'SyncBN']


def _walk_norms(node, path=''):
    if isinstance(node, dict):
        if node.get('type') in ('SyncBN', 'BN'):
            yield path, node['type']
        for k, v in node.items():
            yield from _walk_norms(v, f'{path}.{k}' if path else k)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _walk_norms(v, path)


@pytest.mark.integration
def test_full_size_detectors_build():
    """The R50 detectors as configured (SyncBN, 2048-channel res5) build and their
    StrictPretrained targets exist in them."""
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    for path in (C4_VOC07, C4_COCO, FPN_2X):
        cfg = Config.fromfile(path)
        model = MODELS.build(cfg.model)
        keys = model.state_dict().keys()
        for target in cfg.model.init_cfg.mapping.values():
            assert any(k.startswith(target) for k in keys), (path, target)
        assert isinstance(model.backbone.bn1, torch.nn.SyncBatchNorm)
        if '-c4' in path:
            assert len(model.backbone.res_layers) == 3
            assert model.roi_head.shared_head.layer4[0].conv1.in_channels == 1024


@pytest.mark.integration
def test_mask_rcnn_fpn_coco(coco_root, r50_ckpt, tmp_path):
    """Mask R-CNN R50-FPN 1x (tiny): the weights arrive, one epoch under the Runner
    fine-tunes every stage, CocoMetric gives bbox and segm AP."""
    ckpt, state = r50_ckpt
    cfg = tiny_cfg(FPN_1X, str(tmp_path / 'fpn'), ckpt)
    _fpn_heads(cfg.model)
    _coco_data(cfg, coco_root)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None  # the test split is the same

    model = build_detector(cfg)
    assert_loaded(model.backbone.state_dict(), backbone_state(state), 'FPN backbone')

    metrics = _run(cfg, tmp_path)
    _in_unit(metrics, [f'coco/{t}_mAP{s}' for t in ('bbox', 'segm') for s in ('', '_50', '_75')])
    with open(osp.join(cfg.work_dir, 'test_metrics.json')) as f:
        assert json.load(f) == metrics
    # all stages trained (frozen_stages=-1), BN statistics updated (norm_eval=False)
    trained = _load_checkpoint(osp.join(cfg.work_dir, 'epoch_1.pth'))['state_dict']
    for key in ('conv1.weight', 'layer4.2.conv3.weight', 'bn1.running_mean'):
        assert not torch.equal(trained[f'backbone.{key}'], state[f'base.backbone.{key}']), key


def _c4_tiny(cfg: Config) -> Config:
    cfg.model.roi_head.shared_head.base_channels = TINY_R50['base_channels']
    _rpn_roi_heads(cfg.model, rpn_in=R50_WIDTHS[2], roi_in=R50_WIDTHS[3])
    return cfg


def _assert_c4_loaded(model, state) -> None:
    expected = backbone_state(state)
    assert_loaded(model.backbone.state_dict(),
                  {k: v for k, v in expected.items() if not k.startswith('layer4.')},
                  'C4 backbone (conv1, bn1, layer1-3)')
    head = model.roi_head.shared_head.state_dict()
    assert_loaded({k: v for k, v in head.items() if k.startswith('layer4.')},
                  {k: v for k, v in expected.items() if k.startswith('layer4.')},
                  'C4 res5 head (layer4)')
    assert set(head) - {k for k in head if k.startswith('layer4.')} == {
        'norm.weight', 'norm.bias', 'norm.running_mean', 'norm.running_var',
        'norm.num_batches_tracked'}  # MoCo's extra norm, new


def _train_step(model, num_classes: int = 3) -> torch.Tensor:
    """One forward/backward on a demo batch with boxes and masks."""
    from mmdet.testing import demo_mm_inputs
    model.train()
    data = model.data_preprocessor(
        demo_mm_inputs(2, [(3, SIZE, SIZE)] * 2, num_items=[2, 3], num_classes=num_classes,
                       with_mask=True), True)
    loss, _ = model.parse_losses(model.loss(data['inputs'], data['data_samples']))
    loss.backward()
    assert torch.isfinite(loss)
    return loss


@pytest.mark.integration
def test_faster_rcnn_c4_voc07_weights(r50_ckpt):
    """C4: conv1..layer3 in the backbone, layer4 in the res5 RoI head."""
    ckpt, state = r50_ckpt
    model = build_detector(_c4_tiny(tiny_cfg(C4_VOC07, '/unused', ckpt)))
    _assert_c4_loaded(model, state)
    _train_step(model)
    assert model.backbone.conv1.weight.grad.abs().sum() > 0  # frozen_stages=-1


@pytest.mark.integration
def test_faster_rcnn_c4_voc07_train_c4_sh(voc_root, r50_ckpt, tmp_path):
    """train_c4.sh -> train_and_test.py: trains, tests with VOCMetric (AP at IoU
    0.50:0.95), writes test_metrics.json."""
    cfg = _c4_tiny(tiny_cfg(C4_VOC07, str(tmp_path / 'c4'), 'set-by-the-script'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = voc_root
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3, val_interval=3)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.log_level = 'INFO'
    path = str(tmp_path / 'c4_tiny.py')
    cfg.dump(path)
    for script in ('dist_train_c4.sh', 'dist_train_fpn.sh', 'train_c4.sh', 'train_fpn.sh'):
        assert subprocess.run(['bash', '-n', osp.join(TOOLS, script)]).returncode == 0
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='2')
    result = subprocess.run(
        ['bash', osp.join(TOOLS, 'train_c4.sh'), path, r50_ckpt[0], '--work-dir',
         cfg.work_dir], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'StrictPretrained: loaded' in result.stdout + result.stderr
    with open(osp.join(cfg.work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)
    _in_unit(metrics, ['pascal_voc/mAP', 'pascal_voc/AP50', 'pascal_voc/AP75'])
    assert abs(metrics['pascal_voc/mAP'] - np.mean(
        [metrics[f'pascal_voc/AP{t}'] for t in range(50, 100, 5)])) < 2e-3


@pytest.mark.integration
def test_voc0712_trains_on_both_years(voc_root):
    """The VOC07+12 config concatenates VOC2007 and VOC2012 trainval."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(C4_VOC0712)
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'ConcatDataset'
    for part in dataset.datasets:
        part.data_root = voc_root
    init_default_scope('mmdet')
    assert len(DATASETS.build(dataset)) == 24 + 8
    voc07 = Config.fromfile(C4_VOC07).train_dataloader.dataset
    assert voc07.type == 'VOCDataset' and voc07.ann_file.startswith('VOC2007/')


@pytest.mark.integration
def test_mask_rcnn_c4_coco(r50_ckpt):
    """Mask R-CNN R50-C4 1x (tiny): weights arrive, forward/backward, mask predictions."""
    ckpt, state = r50_ckpt
    cfg = _c4_tiny(tiny_cfg(C4_COCO, '/unused', ckpt))
    _rpn_roi_heads(cfg.model, rpn_in=R50_WIDTHS[2], roi_in=R50_WIDTHS[3],
                   num_classes=len(CLASSES))
    model = build_detector(cfg)
    _assert_c4_loaded(model, state)
    _train_step(model)
    model.eval()
    from mmdet.testing import demo_mm_inputs
    with torch.no_grad():
        preds = model.test_step(demo_mm_inputs(1, [(3, SIZE, SIZE)], num_classes=3))
    assert preds[0].pred_instances.masks.shape[-2:] == (SIZE, SIZE)


@pytest.mark.integration
def test_vit_mask_rcnn(vit_ckpt):
    """ViT + simple feature pyramid (tiny ViT from a GeSSL MoCo v3 checkpoint): the
    weights arrive, forward/backward, layer-wise lr decay."""
    ckpt, state = vit_ckpt
    cfg = tiny_cfg(VIT, '/unused', ckpt)
    cfg.model.backbone.update(arch=TINY_VIT_ARCH, img_size=SIZE)
    cfg.model.neck.update(in_channels=TINY_VIT_ARCH['embed_dims'], out_channels=32)
    _rpn_roi_heads(cfg.model, rpn_in=32, roi_in=32, num_classes=len(CLASSES))

    model = build_detector(cfg)
    loaded = model.backbone.state_dict()
    expected = backbone_state(state)
    # The checkpoint's 2x2 position grid is resized to this model's 4x4 when loaded; the
    # rest (FFN weights too, which TransformerEncoderLayer.init_weights re-draws) is the
    # checkpoint's.
    assert loaded['pos_embed'].shape == (1, 1 + 16, 32)
    assert expected['pos_embed'].shape == (1, 1 + 4, 32)
    assert torch.equal(loaded['pos_embed'][:, 0], expected['pos_embed'][:, 0])
    assert_loaded({k: v for k, v in loaded.items() if k != 'pos_embed'},
                  {k: v for k, v in expected.items() if k != 'pos_embed'}, 'ViT')
    assert [f.shape[-1] for f in model.extract_feat(torch.zeros(1, 3, SIZE, SIZE))] == \
        [16, 8, 4, 2, 1]  # strides 4, 8, 16, 32, 64

    _train_step(model)
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0

    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lrs = {g['param_name']: g['lr'] for g in wrapper.optimizer.param_groups}
    decay = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
    assert lrs['roi_head.bbox_head.fc_cls.weight'] == pytest.approx(1e-4)
    assert lrs['backbone.layers.1.attn.qkv.weight'] == pytest.approx(1e-4 * decay)
    assert lrs['backbone.patch_embed.projection.weight'] == pytest.approx(1e-4 * decay**3)


# ------------------------------------------------------------------- loud mismatches
def _c4_model(r50_ckpt, **init):
    """The tiny C4 detector whose init_cfg is StrictPretrained(**init)."""
    cfg = _c4_tiny(tiny_cfg(C4_VOC07, '/unused', r50_ckpt[0]))
    cfg.model.init_cfg.update(init)
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    return MODELS.build(cfg.model)


@pytest.mark.integration
def test_wrong_prefix_fails_with_the_keys(r50_ckpt):
    model = _c4_model(r50_ckpt, prefix='backbone.')  # a GeSSL checkpoint has base.backbone.
    with pytest.raises(PretrainedMismatchError) as info:
        model.init_weights()
    message = str(info.value)
    assert "no key of" in message and "'base.backbone.' (" in message
    assert 'backbone.conv1.weight' in message
    assert 'roi_head.shared_head.layer4.0.conv1.weight' in info.value.missing


@pytest.mark.integration
def test_missing_layer_fails_with_the_keys(r50_ckpt, tmp_path):
    _, state = r50_ckpt
    path = str(tmp_path / 'no_layer4.pth')
    torch.save({'state_dict': {k: v for k, v in state.items()
                               if not k.startswith('base.backbone.layer4.')}}, path)
    model = _c4_model(r50_ckpt, checkpoint=path)
    with pytest.raises(PretrainedMismatchError) as info:
        model.init_weights()
    missing = info.value.missing
    assert missing and all(k.startswith('roi_head.shared_head.layer4.') for k in missing)
    assert 'roi_head.shared_head.layer4.2.conv3.weight' in missing
    assert ('roi_head.shared_head.layer4.0.conv1.weight (expected checkpoint key '
            'base.backbone.layer4.0.conv1.weight)') in str(info.value)
    # ... unless they are meant to stay new
    model = _c4_model(r50_ckpt, checkpoint=path,
                      ignore_missing=('roi_head.shared_head.layer4.', ))
    model.init_weights()


@pytest.mark.integration
def test_shape_mismatch_fails_with_the_keys(tmp_path):
    wide = str(tmp_path / 'wide.pth')
    make_gessl_checkpoint(wide, dict(type='ResNet', depth=50, stem_channels=8,
                                     base_channels=16, out_indices=(3, )), feat=512)
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    backbone = MODELS.build(dict(type='ResNet', out_indices=(3, ), **TINY_R50))
    with pytest.raises(PretrainedMismatchError) as info:
        load_pretrained_strict(backbone, wide, prefix='base.backbone.')
    keys = [k for k, _, _ in info.value.mismatched]
    assert 'layer1.0.conv1.weight' in keys and 'conv1.weight' not in keys
    assert 'shape mismatch' in str(info.value) and 'layer1.0.conv1.weight' in str(info.value)


@pytest.mark.integration
def test_unexpected_keys_fail_unless_ignored(r50_ckpt):
    """The 3-stage C4 backbone alone has no place for layer4."""
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    backbone = MODELS.build(dict(type='ResNet', num_stages=3, strides=(1, 2, 2),
                                 dilations=(1, 1, 1), out_indices=(2, ), **TINY_R50))
    with pytest.raises(PretrainedMismatchError) as info:
        backbone.init_cfg = dict(type='StrictPretrained', checkpoint=r50_ckpt[0],
                                 prefix='base.backbone.')
        backbone.init_weights()
    assert 'base.backbone.layer4.0.conv1.weight -> layer4.0.conv1.weight' in \
        '\n'.join(info.value.unexpected)
    assert not info.value.missing
    load_pretrained_strict(backbone, r50_ckpt[0], prefix='base.backbone.',
                           ignore_unexpected=('layer4.', ))
    assert torch.equal(backbone.layer3[0].conv2.weight,
                       r50_ckpt[1]['base.backbone.layer3.0.conv2.weight'])


@pytest.mark.integration
def test_backbone_only_and_plain_checkpoints(r50_ckpt, tmp_path):
    """extract_backbone.py output (no prefix) and mmpretrain's backbone.* load as well."""
    _, state = r50_ckpt
    spec = importlib.util.spec_from_file_location(
        'extract_backbone', osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py'))
    extract = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extract)
    bare = str(tmp_path / 'bare.pth')
    extract.extract_backbone(r50_ckpt[0], bare)
    plain = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {k[len('base.'):]: v for k, v in state.items()
                               if k.startswith('base.')}}, plain)
    for path in (bare, plain):
        model = _c4_model(r50_ckpt, checkpoint=path)
        model.init_weights()
        assert torch.equal(model.roi_head.shared_head.layer4[1].conv2.weight,
                           state['base.backbone.layer4.1.conv2.weight'])
        assert torch.equal(model.backbone.bn1.running_mean,
                           state['base.backbone.bn1.running_mean'])


@pytest.mark.integration
def test_entry_point_options(tmp_path, r50_ckpt):
    entry = _load_entry()
    args = entry.parse_args([FPN_1X, '--pretrained', r50_ckpt[0], '--norm', 'BN',
                             '--pretrained-prefix', '', '--work-dir', str(tmp_path)])
    cfg = entry.merge_args(Config.fromfile(FPN_1X), args)
    assert cfg.model.init_cfg.checkpoint == r50_ckpt[0] and cfg.model.init_cfg.prefix == ''
    assert 'SyncBN' not in str(cfg.model)
    with pytest.raises(FileNotFoundError):
        entry.merge_args(Config.fromfile(FPN_1X),
                         entry.parse_args([FPN_1X, '--pretrained', 'nope.pth']))
    args = entry.parse_args([FPN_1X, '--test-only', 'det.pth'])
    cfg = entry.merge_args(Config.fromfile(FPN_1X), args)
    assert cfg.load_from == 'det.pth' and 'init_cfg' not in cfg.model
    assert entry.summary({'pascal_voc/AP50': 0.8123, 'pascal_voc/mAP': 0.5}) == \
        'AP50 81.2 | AP 50.0'


@pytest.mark.multiprocess
@pytest.mark.multiprocess
@pytest.mark.parametrize('script', ['dist_train_c4.sh', 'dist_train_fpn.sh'])
def test_dist_train_scripts_run_two_processes(script, voc_root, coco_root, r50_ckpt, tmp_path):
    """The README's multi-GPU detection commands with 2 CPU processes (gloo): ``--norm BN``
    turns the configs' SyncBN (CUDA only) into BN; the weights arrive on every rank, 2
    iterations train, the test split is evaluated across both ranks."""
    work_dir = str(tmp_path / 'work')
    if script == 'dist_train_c4.sh':
        cfg = _c4_tiny(tiny_cfg(C4_VOC07, work_dir, 'set-by-the-script', one_device=False))
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.data_root = voc_root
        keys = ['pascal_voc/mAP', 'pascal_voc/AP50']
    else:
        cfg = tiny_cfg(FPN_1X, work_dir, 'set-by-the-script', one_device=False)
        _fpn_heads(cfg.model)
        _coco_data(cfg, coco_root)
        keys = ['coco/bbox_mAP', 'coco/segm_mAP']
        cfg.param_scheduler = []  # the config's are epoch-based
    assert [p for p, n in _walk_norms(cfg.model) if n == 'SyncBN']
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # detections after 2 iterations, so AP exists
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.log_level = 'INFO'
    path = str(tmp_path / 'tiny.py')
    cfg.dump(path)
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT=str(port))
    result = subprocess.run(
        ['bash', osp.join(TOOLS, script), path, r50_ckpt[0], '2', '--work-dir', work_dir,
         '--norm', 'BN'], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    assert 'Distributed training: True' in log
    assert 'StrictPretrained: loaded' in log  # rank 0's log (the others print errors only)
    with open(osp.join(work_dir, 'test_metrics.json')) as f:
        _in_unit(json.load(f), keys)
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
