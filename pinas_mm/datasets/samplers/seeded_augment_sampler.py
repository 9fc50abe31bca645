# Copyright (c) pinas_mm contributors. All rights reserved.
import numpy as np
from mmengine.dataset import DefaultSampler

from pinas_mm.registry import DATA_SAMPLERS
from ..seeded_augment_dataset import SeededAugmentDataset


def augmentation_seed(seed, epoch, index):
    """The seed of sample ``index``'s augmentations in ``epoch`` of a run seeded with ``seed`` (a 32-bit int, as
    numpy's legacy seeding takes)."""
    return int(np.random.SeedSequence([seed % 2**32, epoch, index]).generate_state(1)[0])


@DATA_SAMPLERS.register_module()
class SeededAugmentSampler(DefaultSampler):
    """mmengine's :class:`DefaultSampler` (the same order of indices, rank split and ``set_epoch``) that yields with
    every index the seed of that sample's augmentations, :func:`augmentation_seed` of (the sampler's seed, the
    epoch, the index), for :class:`SeededAugmentDataset` to draw them from.

    The augmentations of an epoch are then the same whether workers are persistent or not, how many there are, and
    whether the run was resumed from a checkpoint; each epoch draws new ones. mmengine otherwise seeds each worker's
    generators once, from the seed and the worker's id: persistent workers carry their state from epoch to epoch,
    which a resumed run cannot reproduce, and fresh workers repeat every epoch the draws of the first.

    Args:
        dataset (SeededAugmentDataset): the dataset, wrapped so that it takes ``(index, seed)`` pairs.
        Others: as :class:`DefaultSampler`'s (``shuffle``, ``seed``, ``round_up``).
    """

    def __init__(self, dataset, *args, **kwargs):
        if not isinstance(dataset, SeededAugmentDataset):
            raise TypeError(f'SeededAugmentSampler yields (index, seed) pairs, which {type(dataset).__name__} cannot '
                            "take: wrap the dataset, dataset=dict(type='SeededAugmentDataset', dataset=dict(...)), "
                            "or use sampler=dict(type='DefaultSampler')")
        super().__init__(dataset, *args, **kwargs)

    def __iter__(self):
        for index in super().__iter__():
            yield index, augmentation_seed(self.seed, self.epoch, index)
