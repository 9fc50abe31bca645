# Copyright (c) pinas_mm contributors. All rights reserved.
"""Registry scope and config inheritance: what a user's config relies on."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope


def test_pinas_mm_registers_into_mmrazor_nodes():
    import mmrazor.registry
    import pinas_mm.registry
    for name in pinas_mm.registry.__all__:
        assert getattr(pinas_mm.registry, name) is getattr(mmrazor.registry, name)


def test_mmrazor_scope_is_reachable_from_mmdet_and_mmseg_configs():
    # mmrazor's registries have no lazy-import locations: importing pinas_mm is what fills them
    from mmrazor.models.algorithms import SPOS
    from mmrazor.models.mutables import OneShotMutableOP
    from pinas_mm.models import PiNASResNeSt
    for scope in ('mmdet', 'mmseg'):
        init_default_scope(scope)
        models = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
        assert models.get('mmrazor.SPOS') is SPOS
        assert models.get('mmrazor.OneShotMutableOP') is OneShotMutableOP
        assert models.get('mmrazor.PiNASResNeSt') is PiNASResNeSt


@pytest.mark.parametrize('path', sorted(p for p in glob.glob(osp.join(osp.dirname(__file__), '..', 'configs', '**',
                                                                     '*.py'), recursive=True) if '_base_' not in p))
def test_every_shipped_config_loads(path):
    cfg = Config.fromfile(path)
    assert 'model' in cfg and cfg.custom_imports['imports'] == ['pinas_mm']


@pytest.mark.parametrize('name, model_type, subnet', [
    ('mask-rcnn_pinas-trans_fpn_1x_coco.py', 'MaskRCNN', 'pinas-trans'),
    ('mask-rcnn_pinas-cls_fpn_1x_coco.py', 'MaskRCNN', 'pinas-cls'),
    ('mask-rcnn_resnest50_fpn_1x_coco.py', 'MaskRCNN', 'resnest50'),
    ('deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py', 'EncoderDecoder', 'pinas-trans'),
    ('deeplabv3_pinas-trans-d8_4xb2-40k_cityscapes-512x1024.py', 'EncoderDecoder', 'pinas-trans'),
    ('deeplabv3_resnest50-d8_4xb4-80k_ade20k-512x512.py', 'EncoderDecoder', 'resnest50'),
])
def test_transfer_configs_inherit_the_stock_ones_and_swap_the_backbone(repo_root, name, model_type, subnet):
    cfg = Config.fromfile(f'{repo_root}/configs/transfer/{name}')
    assert cfg.model.type == model_type and cfg.train_dataloader.dataset.type  # inherited from mmdet::/mmseg::
    assert cfg.model.backbone.type == 'mmrazor.PiNASResNeSt'
    assert osp.samefile(cfg.model.backbone.arch, f'{repo_root}/configs/pinas/subnets/{subnet}.yaml')
    assert 'style' not in cfg.model.backbone  # _delete_ dropped the ResNet keys
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN' and cfg.model.backbone.init_cfg.prefix == 'backbone.'
    if model_type == 'EncoderDecoder':  # output stride 8
        assert cfg.model.backbone.dilations == (1, 1, 2, 4) and cfg.model.backbone.strides == (1, 2, 1, 1)


def test_full_pinas_recipe_builds_the_papers_supernet_and_views(repo_root):
    from pinas_mm.registry import MODELS
    cfg = Config.fromfile(f'{repo_root}/configs/pinas/supernet.py')
    views = [t for t in cfg.train_dataloader.dataset.dataset.pipeline if t['type'] == 'MultiView']
    assert views and views[0]['num_views'] == 4
    global_batch = cfg.train_dataloader.batch_size * 8  # the paper's 8 GPUs x 32
    assert global_batch == 256 and cfg.model.queue_len % global_batch == 0
    # the official per-image rate, lr 0.03 for 8 x 24 images, at the config's batch and for --auto-scale-lr
    assert cfg.optim_wrapper.optimizer.lr / global_batch == pytest.approx(0.03 / 192)
    assert cfg.auto_scale_lr.base_batch_size == global_batch and cfg.train_cfg.max_epochs == 100
    twin = Config.fromfile(f'{repo_root}/configs/pinas/supernet_mnist5k.py')
    assert twin.optim_wrapper.optimizer.lr / twin.train_dataloader.batch_size == pytest.approx(0.03 / 192)
    for config in (cfg, twin):  # the official optimizer hook: all-zero gradients get no update
        assert 'ZeroGradAsNoneHook' in [hook['type'] for hook in config.custom_hooks]
    init_default_scope('mmrazor')
    model = MODELS.build(cfg.model)
    assert len(model.student_layers) == 16 and model.queue.shape == (128, 65536)


def test_full_spos_baseline_builds_on_the_same_space(repo_root):
    from mmengine.runner import Runner  # the runner is what hands the top-level data_preprocessor to the model
    from pinas_mm.registry import MODELS
    cfg = Config.fromfile(f'{repo_root}/configs/pinas/spos_supernet.py')
    init_default_scope('mmrazor')
    model_cfg = dict(cfg.model, data_preprocessor=cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    assert type(model.data_preprocessor).__name__ == 'ClsDataPreprocessor'
    assert len(model.mutator.search_groups) == 16 and Runner is not None
