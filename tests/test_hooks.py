# Copyright (c) pinas_mm contributors. All rights reserved.
"""pinas_mm's hooks: start-up checks of a Pi-NAS run, random generators saved and restored with checkpoints."""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmpretrain.datasets.transforms import MultiView

from pinas_mm.engine import PiNASCheckHook, RNGStateHook


def fake_runner(num_views, batch_size, world_size, queue_len=1024):
    pipeline = Compose([MultiView(num_views=num_views, transforms=[[]]), dict(type='mmpretrain.PackInputs')])
    return SimpleNamespace(
        model=SimpleNamespace(use_negatives=True, queue_len=queue_len), world_size=world_size,
        train_dataloader=SimpleNamespace(dataset=SimpleNamespace(pipeline=pipeline), batch_size=batch_size))


def test_pinas_check_accepts_the_papers_setting():
    PiNASCheckHook().before_train(fake_runner(num_views=4, batch_size=32, world_size=8, queue_len=65536))


@pytest.mark.parametrize('runner, message', [
    (fake_runner(num_views=2, batch_size=32, world_size=1), 'needs 4 views of every image, but the training pipeline '
     'makes 2'),
    (fake_runner(num_views=4, batch_size=48, world_size=2), 'queue_len 1024 is not a multiple of the global batch '
     'size 96 (48 per process x 2 processes)'),
])
def test_pinas_check_refuses_a_run_that_cannot_work(runner, message):
    with pytest.raises(ValueError) as error:
        PiNASCheckHook().before_train(runner)
    assert message in str(error.value)


def test_random_generators_are_restored_from_the_checkpoint():
    hook, checkpoint = RNGStateHook(), {}
    hook.before_save_checkpoint(None, checkpoint)
    expected = random.random(), np.random.rand(), torch.rand(1)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    hook.after_load_checkpoint(None, checkpoint)
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected


def monitor_runner(model, mnist5k):
    from mmengine.logging import MMLogger
    from unittest.mock import MagicMock
    return SimpleNamespace(model=model, epoch=0, logger=MMLogger.get_instance('test_monitor'), visualizer=MagicMock(),
                           cfg=dict(train_dataloader=dict(dataset=dict(data_root=mnist5k))))


def labelled_digits(split, views):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(32, 32)), dict(type='PackInputs')]
    if views == 3:
        pipeline[1] = dict(type='MultiView', num_views=[1, 2], transforms=[[pipeline[1]], [
            dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.), backend='pillow')]])
    return dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_prefix=split, pipeline=pipeline))


def test_learning_monitor_measures_the_training_data_and_leaves_the_run_as_it_was(mnist5k):
    from test_pinas import build_pinas

    from pinas_mm.engine import LearningMonitorHook
    model = build_pinas()
    model.init_weights()  # as the Runner does: every candidate's last BN at zero
    hook = LearningMonitorHook(labelled_digits('val', views=3), num_images=32, bank_dataloader=labelled_digits(
        'train', views=1), num_bank_images=48, path_pairs=2)
    runner = monitor_runner(model, mnist5k)
    state, generator = {k: v.clone() for k, v in model.state_dict().items()}, torch.get_rng_state()
    hook.before_train(runner)  # reads the training data's data_root; measures the untrained floor
    hook.after_train_epoch(runner)
    assert torch.equal(torch.get_rng_state(), generator)  # the run's augmentations and shuffles are unchanged
    for key, value in model.state_dict().items():  # BN statistics included
        assert torch.equal(value, state[key]), key
    assert hook.history[0] == hook.history[1]  # fixed images and paths: the same model measures the same
    figures = hook.history[0]
    assert figures['cross_path_retrieval_top1'] == 1  # untrained, zero-init: every path and the teacher are alike
    assert figures['cos_between_paths'] == pytest.approx(1) and figures['residual_bn_scale'] == 0
    assert 0 <= figures['cross_view_retrieval_top1'] <= 1 and 0 <= figures['knn_top1'] <= 100
    runner.visualizer.add_scalars.assert_called_with({f'monitor/{k}': v for k, v in figures.items()}, step=1)


def test_learning_monitor_warns_of_a_collapse_with_its_likely_causes(mnist5k, monkeypatch):
    from test_pinas import build_pinas

    from pinas_mm.engine import LearningMonitorHook
    from pinas_mm.engine.hooks import learning_monitor_hook
    model = build_pinas()
    runner = monitor_runner(model, mnist5k)
    runner.logger = SimpleNamespace(info=lambda message: None, warning=lambda message: warnings.append(message))
    warnings = []
    hook = LearningMonitorHook(labelled_digits('val', views=1), num_images=16, path_pairs=1)
    hook.before_train(runner)
    collapsed = dict(hook.history[0], cos_between_images=0.998)
    monkeypatch.setattr(learning_monitor_hook, 'learning_figures', lambda *args: collapsed)
    hook.after_train_epoch(runner)
    assert len(warnings) == 1 and 'collapsing' in warnings[0] and 'zero_init_residual=True' in warnings[0] \
        and 'SplitBN' in warnings[0] and 'use_negatives' not in warnings[0]
    model.use_negatives = False
    hook.after_train_epoch(runner)
    assert warnings[-1].split('Likely causes: ')[1].startswith('training without negatives')
    with pytest.raises(ValueError, match='kNN top-1 needs labelled'):
        LearningMonitorHook(labelled_digits('val', views=1), bank_dataloader=dict(
            labelled_digits('train', views=1), dataset=dict(labelled_digits('train', views=1)['dataset'],
                                                            with_label=False))).before_train(runner)
