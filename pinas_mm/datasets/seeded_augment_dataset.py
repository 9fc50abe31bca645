# Copyright (c) pinas_mm contributors. All rights reserved.
from pinas_mm.registry import DATASETS
from pinas_mm.utils.random_state import seeded_random_state


@DATASETS.register_module()
class SeededAugmentDataset:
    """A dataset whose random augmentations come from a seed given with each index.

    Indexed with an ``(index, seed)`` pair, as :class:`SeededAugmentSampler` yields them, it runs the wrapped
    dataset's pipeline with python's ``random``, numpy's and torch's global generators seeded with ``seed``, and puts
    them back as they were afterwards; the views of one sample (``MultiView``) are drawn one after the other from that
    seed. mmcv's and mmpretrain's transforms draw from these three generators. So a sample's augmentations depend on
    the seed alone, not on the data-loader worker that loads it, how many there are, or what that worker loaded
    before. Indexed with a plain int it is the wrapped dataset, ordinary randomness included. Other attributes
    (``metainfo``, ``pipeline``, ...) are the wrapped dataset's.

    Args:
        dataset (dict | Dataset): the dataset to wrap, or its config.
    """

    def __init__(self, dataset):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        if not isinstance(index, tuple):
            return self.dataset[index]
        index, seed = index
        with seeded_random_state(seed):
            return self.dataset[index]

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (while unpickling in a spawned worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)
