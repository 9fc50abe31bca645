# Copyright (c) pinas_mm contributors. All rights reserved.
"""The shipped transfer configs, scaled down: each builds, loads an exported subnet checkpoint, trains a step and is
evaluated by its toolbox's own dataset class and metric on digit canvases written in the real on-disk formats;
tools/test.py evaluates the result. Plus the refusals: a checkpoint of another subnet, a stride with dilation."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from pinas_mm.apis import export_subnet
from pinas_mm.registry import MODELS
from pinas_mm.structures import SubnetError
from conftest import run_tool

SCALED = dict(stage_blocks=(1, 1, 2, 1), stem_channels=16, base_channels=16)  # stage outputs 64, 128, 256, 512
SUBNET = '31203'
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs')


@pytest.fixture(scope='module')
def canvases(tmp_path_factory):
    from pinas_mm.datasets import prepare_digit_canvases
    return prepare_digit_canvases(str(tmp_path_factory.mktemp('data') / 'canvases'), num_train=4, num_val=2,
                                  canvas_size=64, digit_size=(16, 28))


@pytest.fixture(scope='module')
def subnet_checkpoint(tmp_path_factory):
    """tools/export_subnet.py's output for subnet 31203 of a scaled-down supernet."""
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    supernet = MODELS.build(dict(type='PiNASResNeSt', **SCALED))
    state_dict = {f'backbone.{key}': value for key, value in supernet.state_dict().items()}
    _, checkpoint = export_subnet(dict(type='PiNASResNeSt', **SCALED), state_dict, SUBNET)
    path = str(tmp_path_factory.mktemp('subnet') / 'subnet.pth')
    torch.save(checkpoint, path)
    return path


def set_resize(pipeline, scale):
    """Small images: the stock pipelines resize to 1333x800 (mmdet) or 2048x512 (mmseg)."""
    pipeline[:] = [dict(type='Resize', scale=scale, keep_ratio=False) if t['type'] in ('Resize', 'RandomResize')
                   else t for t in pipeline if t['type'] not in ('RandomCrop', 'PhotoMetricDistortion')]


def scaled_down(config, work_dir, checkpoint, data_root, dataset):
    """The shipped config with a 5-layer backbone loading ``checkpoint``, one epoch/iteration on the canvases."""
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.update(arch=SUBNET, **SCALED)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.update(data_root=data_root, **dataset(loader.split('_')[0]))
        set_resize(cfg[loader].dataset.pipeline, (64, 64))
    cfg.default_hooks.logger.interval = 1
    return cfg


def mmdet_dataset(split):
    split = 'train' if split == 'train' else 'val'
    return dict(ann_file=f'annotations/instances_{split}.json', data_prefix=dict(img=f'{split}/'),
                metainfo=dict(classes=tuple('0123456789')), filter_cfg=dict(filter_empty_gt=True, min_size=4))


def mmseg_dataset(layout):
    def dataset(split):
        if layout == 'ade20k':
            folder = 'training' if split == 'train' else 'validation'
            return dict(data_prefix=dict(img_path=f'images/{folder}', seg_map_path=f'annotations/{folder}'))
        split = 'train' if split == 'train' else 'val'
        return dict(data_prefix=dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'))
    return dataset


@pytest.mark.parametrize('config', ['mask-rcnn_pinas-trans_fpn_1x_coco.py', 'mask-rcnn_pinas-cls_fpn_1x_coco.py',
                                    'mask-rcnn_resnest50_fpn_1x_coco.py'])
def test_mask_rcnn_configs_train_and_evaluate_with_coco_metric(config, canvases, subnet_checkpoint, tmp_path,
                                                               repo_root):
    cfg = scaled_down(f'transfer/{config}', tmp_path, subnet_checkpoint, canvases['coco'], mmdet_dataset)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.roi_head.bbox_head.num_classes = cfg.model.roi_head.mask_head.num_classes = 10
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = osp.join(canvases['coco'], 'annotations/instances_val.json')
    cfg.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(cfg)
    exported = torch.load(subnet_checkpoint, weights_only=True)['state_dict']
    runner.model.init_weights()
    for key, value in runner.model.backbone.state_dict().items():  # the exported subnet's weights, strictly
        assert torch.equal(value, exported[f'backbone.{key}']), key
    runner.train()  # 2 iterations, then CocoMetric on the val canvases
    assert {'val/coco/bbox_mAP', 'val/coco/segm_mAP'} <= set(runner.message_hub.log_scalars)

    # tools/test.py on the trained checkpoint, with the config the run dumped
    dumped = glob.glob(str(tmp_path / '*.py'))[0]
    status, output = run_tool('tools/test.py', dumped, str(tmp_path / 'epoch_1.pth'), '--work-dir',
                              str(tmp_path / 'test'))
    assert status == 0 and 'coco/segm_mAP' in output, output[-3000:]


@pytest.mark.parametrize('config, layout', [
    ('deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py', 'ade20k'),
    ('deeplabv3_resnest50-d8_4xb4-80k_ade20k-512x512.py', 'ade20k'),
    ('deeplabv3_pinas-trans-d8_4xb2-40k_cityscapes-512x1024.py', 'cityscapes'),
])
def test_deeplab_configs_train_and_evaluate_with_iou_metric(config, layout, canvases, subnet_checkpoint, tmp_path):
    cfg = scaled_down(f'transfer/{config}', tmp_path, subnet_checkpoint, canvases[layout], mmseg_dataset(layout))
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.model.decode_head.update(in_channels=512, channels=32)
    cfg.model.auxiliary_head.update(in_channels=256, channels=16)
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    runner = Runner.from_cfg(cfg)
    runner.train()  # one iteration, then IoUMetric on the val canvases
    assert 'val/mIoU' in runner.message_hub.log_scalars
    assert runner.model.backbone.dilations == (1, 1, 2, 4)  # output stride 8
    assert runner.model.backbone.layer4[0].conv2.conv.dilation == (4, 4)


def test_deeplab_trains_distributed_with_dist_train_sh(canvases, subnet_checkpoint, tmp_path, repo_root, free_port):
    """Two processes; without GPUs the launcher builds SyncBN as BN (DDP takes SyncBN only on GPUs)."""
    cfg = scaled_down('transfer/deeplabv3_pinas-trans-d8_4xb2-40k_cityscapes-512x1024.py', tmp_path / 'run',
                      subnet_checkpoint, canvases['cityscapes'], mmseg_dataset('cityscapes'))
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.model.decode_head.update(in_channels=512, channels=32)
    cfg.model.auxiliary_head.update(in_channels=256, channels=16)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.dump(str(tmp_path / 'deeplab.py'))
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port)
    result = subprocess.run(['bash', 'tools/dist_train.sh', str(tmp_path / 'deeplab.py'), '2'], cwd=repo_root,
                            env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and 'mIoU' in output and 'SyncBN layers are built as BN' in output, output[-3000:]


@pytest.mark.parametrize('config', ['pinas-cls_32xb64_in1k.py', 'pinas-trans_32xb64_in1k.py',
                                    'pinas-cls_8xb32-linear-steplr-100e_in1k.py'])
def test_imagenet_configs_build_train_a_step_and_predict(config, subnet_checkpoint):
    cfg = Config.fromfile(osp.join(CONFIGS, 'pinas', config))
    cfg.model.backbone.update(arch=SUBNET, **SCALED)
    cfg.model.head.update(in_channels=512, num_classes=10)
    if 'init_cfg' in cfg.model.backbone:
        cfg.model.backbone.init_cfg.checkpoint = subnet_checkpoint
    if cfg.model.get('train_cfg'):
        cfg.model.train_cfg.augments = None  # mixup's one-hot needs the full class count; no matter here
    if 'LabelSmoothLoss' == cfg.model.head.loss.type:
        cfg.model.head.loss.num_classes = 10
    cfg.model.data_preprocessor = dict(cfg.data_preprocessor, num_classes=10)  # the runner would pass it
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()
    from mmpretrain.structures import DataSample
    data = dict(inputs=torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8),
                data_samples=[DataSample().set_gt_label(i) for i in range(2)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    losses = model.train_step(data, OptimWrapper(optimizer))
    assert torch.isfinite(losses['loss'])
    assert len(model.val_step(data)) == 2
    if cfg.model.backbone.get('frozen_stages') == 4:  # linear probe: only the head learns
        assert not any(p.requires_grad for p in model.backbone.parameters())


def test_a_checkpoint_of_another_subnet_is_refused_by_name(subnet_checkpoint):
    init_default_scope('mmrazor')
    backbone = MODELS.build(dict(type='PiNASResNeSt', arch='31200', **SCALED,
                                 init_cfg=dict(type='Pretrained', checkpoint=subnet_checkpoint, prefix='backbone.')))
    with pytest.raises(SubnetError, match=r"holds subnet 31203, the backbone is 31200: layer4.0 is candidate '3'"):
        backbone.init_weights()
    # without the export's metadata (e.g. a classifier checkpoint): the first weight that does not fit is named
    checkpoint = torch.load(subnet_checkpoint, weights_only=True)
    path = osp.join(osp.dirname(subnet_checkpoint), 'no_meta.pth')
    torch.save(dict(state_dict=checkpoint['state_dict']), path)
    backbone.init_cfg['checkpoint'] = path
    with pytest.raises(SubnetError, match=r'does not fit subnet 31200: .* first: layer4\.0\.'):
        backbone.init_weights()


def test_a_stride_with_dilation_is_refused():
    init_default_scope('mmrazor')
    with pytest.raises(ValueError, match=r'layer3: stride 2 with dilation 2'):
        MODELS.build(dict(type='PiNASResNeSt', arch=SUBNET, **SCALED, dilations=(1, 1, 2, 4)))


@pytest.mark.parametrize('config', sorted(p for p in glob.glob(osp.join(CONFIGS, 'transfer', '*.py'))))
def test_transfer_models_are_counted_by_get_flops(config, repo_root):
    # the digit-canvas twins default to the subnet the demo exports into work_dirs/, which a fresh clone lacks
    twin = ['--subnet', SUBNET, '--shape', '128'] if config.endswith('_digit-canvases.py') else []
    status, output = run_tool('tools/get_flops.py', config, *twin)
    assert status == 0 and 'MACs:' in output, output[-3000:]
