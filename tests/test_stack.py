# Copyright (c) pinas_mm contributors. All rights reserved.
"""The OpenMMLab stack works on this machine: mmdet and mmseg models with mmcv's compiled ops, an mmrazor one-shot
algorithm, and mmengine's runner with resume. Small inputs, CPU only."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData


def load_config(name, repo_root):
    """A stock config (``mmdet::...``) or one of this repository's, with no pretrained weights to download."""
    cfg = get_config(name) if '::' in name else Config.fromfile(f'{repo_root}/{name}')
    cfg.model.backbone.init_cfg = None
    cfg.model.pop('pretrained', None)
    return cfg


@pytest.mark.parametrize('config', [
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'configs/transfer/mask-rcnn_resnest50_fpn_1x_coco.py',
])
def test_mask_rcnn_loss_and_predict(config, repo_root):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    init_default_scope('mmdet')
    model = revert_sync_batchnorm(MODELS.build(load_config(config, repo_root).model))
    image = torch.randint(0, 255, (3, 96, 128), dtype=torch.uint8)
    mask = np.zeros((1, 96, 128), dtype=np.uint8)
    mask[0, 20:70, 30:90] = 1
    sample = DetDataSample(metainfo=dict(img_shape=(96, 128), ori_shape=(96, 128), scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[30., 20., 90., 70.]]), labels=torch.tensor([3]),
                                       masks=BitmapMasks(mask, 96, 128))
    # two images: ResNeSt's split attention has a BN on pooled features, which needs more than 1 value
    batch = model.data_preprocessor(dict(inputs=[image, image.flip(-1)], data_samples=[sample, sample.clone()]),
                                    training=True)
    losses = model(**batch, mode='loss')
    for name in ('loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'):  # RPN, RoIAlign heads
        value = losses[name]
        assert all(torch.isfinite(v).all() for v in (value if isinstance(value, list) else [value])), name
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=[image], data_samples=[sample]), training=False)
        result = model(**batch, mode='predict')[0]  # NMS, RoIAlign, mask pasting
    assert result.pred_instances.masks.shape[1:] == (96, 128)


@pytest.mark.parametrize('config', [
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_ade20k-512x512.py',
    'configs/transfer/deeplabv3_resnest50-d8_4xb4-80k_ade20k-512x512.py',
])
def test_deeplabv3_loss_and_predict(config, repo_root):
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    init_default_scope('mmseg')
    cfg = load_config(config, repo_root)
    cfg.model.data_preprocessor.size = (64, 64)  # the configs pad to 512x512 crops
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    image = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
    sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, 64, 64)))
    batch = model.data_preprocessor(dict(inputs=[image, image.flip(-1)], data_samples=[sample, sample.clone()]),
                                    training=True)
    losses = model(**batch, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce']) and torch.isfinite(losses['aux.loss_ce'])
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=[image], data_samples=[sample]), training=False)
        result = model(**batch, mode='predict')[0]
    assert result.pred_sem_seg.data.shape == (1, 64, 64)


def test_spos_trains_only_the_sampled_path(repo_root):
    from mmpretrain.structures import DataSample
    from mmrazor.models.mutables import OneShotMutableOP
    from pinas_mm.registry import MODELS
    init_default_scope('mmrazor')
    cfg = Config.fromfile(f'{repo_root}/configs/pinas/spos_supernet_mnist5k.py')
    model = MODELS.build(cfg.model)
    before = {id(p): p.detach().clone() for p in model.parameters()}
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8) for _ in range(2)],
                data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4))
    losses = model.train_step(data, optim_wrapper)  # samples a subnet, then one SGD step
    assert torch.isfinite(losses['loss'])
    layers = [m for m in model.modules() if isinstance(m, OneShotMutableOP)]
    assert len(layers) == 5
    for layer in layers:
        sampled = {id(p) for p in layer._candidates[layer.current_choice].parameters()}  # incl. the shared shortcut
        for choice, candidate in layer._candidates.items():
            changed = [not torch.equal(p, before[id(p)]) for p in candidate.parameters() if id(p) not in sampled]
            if choice == layer.current_choice:
                assert any(not torch.equal(p, before[id(p)]) for p in candidate.parameters()), choice
            else:  # no gradient, so no update and no weight decay
                assert not any(changed), choice


def test_runner_resume_gives_the_same_state_as_an_uninterrupted_run(tmp_path, make_toy_runner):
    uninterrupted = make_toy_runner(tmp_path / 'a', max_iters=4)
    uninterrupted.train()
    make_toy_runner(tmp_path / 'b', max_iters=2).train()
    resumed = make_toy_runner(tmp_path / 'b', max_iters=4, resume=True)
    resumed.train()
    assert resumed.iter == uninterrupted.iter == 4
    for (name, a), b in zip(uninterrupted.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    momentum_a = uninterrupted.optim_wrapper.optimizer.state_dict()['state']
    momentum_b = resumed.optim_wrapper.optimizer.state_dict()['state']
    for key in momentum_a:
        assert torch.equal(momentum_a[key]['momentum_buffer'], momentum_b[key]['momentum_buffer'])
