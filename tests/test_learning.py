# Copyright (c) pinas_mm contributors. All rights reserved.
"""The Pi-NAS supernet learns: a short real run of the CPU twin's training on the bundled digits must end with
cross-path retrieval well above chance and above the untrained supernet's, features that classify better than the
untrained ones (kNN, labels used only to measure) and no collapse. Unit tests of pairing, EMA and queue could not
catch a recipe whose supernet collapses; this does (see the second test)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from pinas_mm.engine.hooks import LearningMonitorHook

def train_twin(repo_root, mnist5k, work_dir, epochs=3, **options):
    """The monitor's figures of supernet_mnist5k.py trained for ``epochs`` of 100 steps of 32 digits (300 steps: about
    a minute on 2 cores), at lr 0.03 and with crops of 50-100 % of a digit, so that a short run moves the figures
    clearly."""
    cfg = Config.fromfile(osp.join(repo_root, 'configs/pinas/supernet_mnist5k.py'))
    cfg.merge_from_dict({
        'work_dir': str(work_dir), 'train_dataloader.dataset.dataset.data_root': mnist5k,
        'train_dataloader.batch_size': 32, 'train_dataloader.dataset.dataset.indices': 3200,
        'train_cfg.max_epochs': epochs, 'param_scheduler.0.T_max': epochs, 'param_scheduler.0.end': epochs,
        'default_hooks.checkpoint.interval': epochs,
        'optim_wrapper.optimizer.lr': 0.03, **options})
    monitor = next(hook for hook in cfg.custom_hooks if hook['type'] == 'LearningMonitorHook')
    monitor.interval = epochs  # before and after training
    for views in (cfg.train_dataloader.dataset.dataset.pipeline[1], monitor.dataloader.dataset.pipeline[1]):
        views.transforms[-1][0].crop_ratio_range = (0.5, 1.)
    runner = Runner.from_cfg(cfg)
    runner.train()
    history = next(hook for hook in runner.hooks if isinstance(hook, LearningMonitorHook)).history
    return history[0], history[epochs]


def test_the_supernet_learns_on_the_bundled_digits(repo_root, mnist5k, tmp_path):
    untrained, trained = train_twin(repo_root, mnist5k, tmp_path)
    chance = 1 / 256
    assert trained['cross_view_retrieval_top1'] > max(10 * chance, 1.2 * untrained['cross_view_retrieval_top1'])
    assert trained['knn_top1'] > untrained['knn_top1'] + 5
    assert trained['cos_between_images'] < 0.5


@pytest.mark.parametrize('options', [{'model.backbone.zero_init_residual': False}])
def test_a_supernet_that_collapses_fails_the_learning_check(repo_root, mnist5k, tmp_path, options):
    # without zero-init (DESIGN §3) the embeddings collapse within the first 100 steps (cosine of two images 0.99)
    untrained, trained = train_twin(repo_root, mnist5k, tmp_path, epochs=1, **options)
    assert trained['cross_view_retrieval_top1'] < 10 / 256 and trained['cos_between_images'] > 0.5
