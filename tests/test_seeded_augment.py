# Copyright (c) pinas_mm contributors. All rights reserved.
"""Augmentations seeded per image: the same whatever the number of data-loader workers and whether they persist,
new in every epoch, and the caller's random generators left as they were."""
import random

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from pinas_mm.datasets import SeededAugmentDataset, SeededAugmentSampler


class RandomDraws:
    """Each item: draws from python's, numpy's and torch's global generators, as mmcv/mmpretrain transforms make."""

    def __len__(self):
        return 12

    def __getitem__(self, index):
        return torch.tensor([index, random.random(), np.random.rand(), torch.rand(1).item()], dtype=torch.float64)


def epochs(num_workers, persistent, num_epochs=2):
    init_default_scope('mmrazor')
    loader = Runner.build_dataloader(dict(
        dataset=SeededAugmentDataset(RandomDraws()), sampler=dict(type='SeededAugmentSampler', shuffle=True),
        batch_size=4, num_workers=num_workers, persistent_workers=persistent, collate_fn=dict(type='default_collate')),
        seed=0)
    draws = []
    for epoch in range(num_epochs):
        loader.sampler.set_epoch(epoch)  # as mmengine's DistSamplerSeedHook does
        draws.append(torch.cat(list(loader)))
    return draws


def test_augmentations_depend_on_seed_epoch_and_index_only():
    reference = epochs(num_workers=0, persistent=False)
    for workers, persistent in ((1, False), (2, True), (3, True)):
        for ours, theirs in zip(epochs(workers, persistent), reference):
            assert torch.equal(ours, theirs), (workers, persistent)
    first, second = reference
    assert not torch.equal(first[first[:, 0].argsort()], second[second[:, 0].argsort()])  # new draws every epoch
    assert len(set(first[:, 1].tolist())) == 12  # and per image


def test_the_callers_generators_are_left_as_they_were():
    def draws_after(action):
        random.seed(1), np.random.seed(1), torch.manual_seed(1)
        action()
        return random.random(), np.random.rand(), torch.rand(1).item()

    dataset = SeededAugmentDataset(RandomDraws())
    assert draws_after(lambda: dataset[3, 42]) == draws_after(lambda: None)
    assert torch.equal(dataset[3, 42], dataset[3, 42]) and not torch.equal(dataset[3, 43], dataset[3, 42])
    assert dataset[3][0] == 3  # a plain index: the wrapped dataset, ordinary randomness


def test_a_sampler_without_the_wrapper_is_refused():
    with pytest.raises(TypeError, match='SeededAugmentDataset'):
        SeededAugmentSampler(RandomDraws(), seed=0)
