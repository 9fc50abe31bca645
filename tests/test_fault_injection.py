# Copyright (c) pinas_mm contributors. All rights reserved.
"""Fault injection (benchmarks/fault_injection.py, shortened): training with the config's own data loader (2
persistent workers, augmentations seeded per image) killed with kill -9 twice (once while a checkpoint is written,
once at a seeded random moment) and a search killed twice, each resumed with --resume: the final state of an
uninterrupted run (student, EMA teacher, queue, path generator, optimizer, iteration), every checkpoint whole after
every kill, no temporary file left behind."""
import os.path as osp
import random
import sys

import pytest
from mmengine.config import Config

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
import fault_injection  # noqa: E402


@pytest.fixture(scope='module')
def training(mnist5k, tmp_path_factory):
    def plan(wall):  # while a checkpoint is written, then at a seeded random moment
        return [('Saving checkpoint', 'file'), (None, random.Random(0).uniform(0.2, 1.0) * wall)]

    return fault_injection.training_trial(str(tmp_path_factory.mktemp('training')), mnist5k, epochs=2, images=64,
                                          kills=2, plan=plan)


def test_the_shipped_data_loader_is_the_one_killed(repo_root):
    loader = Config.fromfile(osp.join(repo_root, 'configs/pinas/supernet_mnist5k.py')).train_dataloader
    assert (loader.num_workers, loader.persistent_workers) == (2, True)
    assert loader.sampler.type == 'mmrazor.SeededAugmentSampler'
    assert not any(option.startswith(('train_dataloader.num_workers', 'train_dataloader.persistent',
                                      'train_dataloader.sampler'))
                   for option in fault_injection.training_options('data', epochs=2, images=64))


def test_killed_training_resumes_into_the_uninterrupted_state(training):
    assert [kill['outcome'] for kill in training['kills']] == ['killed'] * len(training['kills'])
    assert training['kills'][0]['temporary_files']  # killed while writing a checkpoint
    assert training['differing'] == []  # every model and optimizer tensor, and the iteration
    # every epoch_*.pth loads, last_checkpoint names one, after every kill and at the end; the temporary file of the
    # killed write is gone once the resumed run writes that checkpoint again
    assert training['problems'] == []


def test_killed_search_resumes_into_the_same_generations_and_best_subnet(mnist5k, pinas_checkpoint, tmp_path):
    # as the first generation starts, nothing saved (resumed, it starts afresh from the config's supernet), then as
    # the second starts, once the first one's state is saved (a later moment could come after the short search ends)
    def plan(wall):
        return [('Generation [1/2] candidate', 0.0), ('Generation [2/2] candidate', 0.0)]

    search = fault_injection.search_trial(str(tmp_path), mnist5k, pinas_checkpoint, generations=2, kills=2, plan=plan)
    assert [kill['outcome'] for kill in search['kills']] == ['killed'] * 2, (search['problems'], search['matched'])
    assert search['matched'] and search['problems'] == [], search
