# Copyright (c) pinas_mm contributors. All rights reserved.
"""The user guide "Your own mmdet / mmseg config": its snippets, read from docs/en/user_guides/own_config.md, build and
train a step (scaled down, on digit canvases); the backbone's ``pretrained`` argument; too few feature maps named as
``out_indices``."""
import copy
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
import test_transfer
from test_transfer import SCALED, SUBNET, mmdet_dataset, mmseg_dataset, scaled_down

from pinas_mm.registry import MODELS

# the transfer tests' fixtures: digit canvases and the exported checkpoint of their scaled-down subnet
canvases = test_transfer.canvases
subnet_checkpoint = test_transfer.subnet_checkpoint

GUIDE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'docs', 'en', 'user_guides', 'own_config.md')
SECTION = '# Your own mmdet / mmseg config'


def guide_snippet(scope):
    """The fenced python block of the own-config guide whose ``_base_`` is in ``scope`` (mmdet, mmseg)."""
    with open(GUIDE) as f:
        section = f.read().split(SECTION, 1)[1]
    section = re.split(r'\n##+ ', section, 1)[0]
    blocks = [block for block in re.findall(r'```python\n(.*?)```', section, re.S) if f"'{scope}::" in block]
    assert len(blocks) == 1, f'{GUIDE}, section {SECTION!r}, has {len(blocks)} {scope} snippets'
    return blocks[0]


def snippet_config(scope, tmp_path):
    path = tmp_path / f'own_{scope}.py'
    path.write_text(guide_snippet(scope))
    return str(path)


def scaled_down_snippet(scope, tmp_path, checkpoint, canvases):
    """The guide's snippet with the transfer tests' scaled-down subnet in place of its placeholder paths, its heads
    narrowed to match, a step on the canvases and no validation. Everything else is the snippet's."""
    if scope == 'mmdet':
        cfg = scaled_down(snippet_config(scope, tmp_path), tmp_path, checkpoint, canvases['coco'], mmdet_dataset)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        cfg.model.roi_head.bbox_head.num_classes = cfg.model.roi_head.mask_head.num_classes = 10
        cfg.train_cfg.max_epochs = 1
        cfg.train_dataloader.batch_size = 4  # the 4 training canvases: one step
        cfg.model.train_cfg.rcnn.sampler.num = 16  # of 512 RoIs per image, whose mask convolutions would take seconds
    else:
        cfg = scaled_down(snippet_config(scope, tmp_path), tmp_path, checkpoint, canvases['ade20k'],
                          mmseg_dataset('ade20k'))
        cfg.model.data_preprocessor.size = (64, 64)
        cfg.model.decode_head.update(in_channels=512, channels=32)
        cfg.model.auxiliary_head.update(in_channels=256, channels=16)
        cfg.train_cfg.update(max_iters=1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = cfg.default_hooks.checkpoint = None
    return cfg


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_guide_snippets_build_load_and_train_a_step(scope, canvases, subnet_checkpoint, tmp_path):
    cfg = scaled_down_snippet(scope, tmp_path, subnet_checkpoint, canvases)
    runner = Runner.from_cfg(cfg)
    backbone = runner.model.backbone
    backbone.init_weights()
    exported = torch.load(subnet_checkpoint, weights_only=True)['state_dict']
    assert all(torch.equal(value, exported[f'backbone.{key}']) for key, value in backbone.state_dict().items())
    if scope == 'mmseg':
        assert backbone.layer4[0].conv2.conv.dilation == (4, 4)  # output stride 8
    runner.train()
    assert runner.iter == 1 and torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))


@pytest.mark.parametrize('scope, message', [
    ('mmdet', r"FPN expects 4 feature maps \(in_channels=\[64, 128, 256, 512\]\) but the backbone returned 1: set the "
              r"backbone's out_indices=\(0, 1, 2, 3\)"),
    ('mmseg', r"ASPPHead reads feature map 3 \(in_index\) but got 1 feature maps: set the backbone's "
              r"out_indices=\(0, 1, 2, 3\)"),
])
def test_snippets_without_out_indices_name_it(scope, message, canvases, subnet_checkpoint, tmp_path):
    """The user's first try: the snippet without out_indices, whose backbone returns only the last stage."""
    cfg = scaled_down_snippet(scope, tmp_path, subnet_checkpoint, canvases)
    del cfg.model.backbone.out_indices
    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    model = registry.build(cfg.model).eval()
    features = model.extract_feat(torch.rand(1, 3, 64, 64)) if scope == 'mmseg' else None
    with pytest.raises(ValueError, match=message):
        if scope == 'mmdet':
            model.extract_feat(torch.rand(1, 3, 64, 64))  # backbone, then FPN
        else:
            model.decode_head(features)


def test_mmseg_auxiliary_head_and_fpn_name_out_indices_too():
    from mmseg.models.decode_heads import FCNHead
    from mmseg.models.necks import FPN
    features = (torch.rand(1, 64, 4, 4), torch.rand(1, 128, 2, 2))
    with pytest.raises(ValueError, match=r"FCNHead reads feature map 2 \(in_index\) but got 2 feature maps: set the "
                                         r"backbone's out_indices=\(0, 1, 2\)"):
        FCNHead(in_channels=256, in_index=2, channels=8, num_classes=3)(features)
    with pytest.raises(ValueError, match=r'FPN expects 4 feature maps \(in_channels=\[64, 128, 256, 512\]\) but the '
                                         r'backbone returned 2'):
        FPN(in_channels=[64, 128, 256, 512], out_channels=8, num_outs=4)(features)
    assert len(FCNHead(in_channels=128, in_index=-1, channels=8, num_classes=3, num_convs=1)(features)) == 1


def test_pretrained_is_taken_as_mmdet_and_mmseg_resnets_take_it(subnet_checkpoint):
    init_default_scope('mmrazor')
    backbone = MODELS.build(dict(type='PiNASResNeSt', arch=SUBNET, **SCALED, pretrained=subnet_checkpoint))
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=subnet_checkpoint, prefix='backbone.')
    backbone.init_weights()
    exported = torch.load(subnet_checkpoint, weights_only=True)['state_dict']
    assert all(torch.equal(value, exported[f'backbone.{key}']) for key, value in backbone.state_dict().items())

    init_cfg = dict(type='Pretrained', checkpoint=subnet_checkpoint, prefix='backbone.')
    assert MODELS.build(dict(type='PiNASResNeSt', **SCALED, pretrained=None, init_cfg=init_cfg)).init_cfg == init_cfg
    with pytest.raises(ValueError, match=r"both pretrained='x.pth' and init_cfg=.* set model.pretrained=None"):
        MODELS.build(dict(type='PiNASResNeSt', **SCALED, pretrained='x.pth', init_cfg=init_cfg))
    with pytest.raises(TypeError, match='pretrained must be a checkpoint path or None'):
        MODELS.build(dict(type='PiNASResNeSt', **SCALED, pretrained=dict(checkpoint='x.pth')))


def test_mmseg_hands_its_pretrained_to_the_backbone(subnet_checkpoint, tmp_path):
    cfg = Config.fromfile(snippet_config('mmseg', tmp_path))
    cfg.model.backbone.update(arch=SUBNET, **SCALED)
    from mmseg.registry import MODELS as MMSEG_MODELS
    init_default_scope('mmseg')
    # the stock config's ResNet-V1c weights with the snippet's init_cfg: refused, naming what to set
    with pytest.raises(ValueError, match=r"both pretrained='open-mmlab://resnet50_v1c'.* set model.pretrained=None"):
        MMSEG_MODELS.build(dict(copy.deepcopy(cfg.model), pretrained='open-mmlab://resnet50_v1c'))
    # the checkpoint as the model's pretrained instead of the backbone's init_cfg
    del cfg.model.backbone.init_cfg
    model = MMSEG_MODELS.build(dict(cfg.model, pretrained=subnet_checkpoint))
    assert model.backbone.init_cfg == dict(type='Pretrained', checkpoint=subnet_checkpoint, prefix='backbone.')
