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
