# Copyright (c) pinas_mm contributors. All rights reserved.
import logging
from functools import partial

import torch
from mmengine.dataset import worker_init_fn
from mmengine.logging import print_log
from mmengine.runner import Runner, set_random_seed
from torch.utils.data import DataLoader


def load_fixed_batches(dataloader, num_images, seed, data_preprocessor):
    """A fixed, seeded subset of ``num_images`` images of a dataloader's dataset, loaded and preprocessed once.

    The subset and its random augmentations depend only on ``seed``, not on the rank, so every rank holds the same
    batches and a resumed run measures on the images the uninterrupted one did. Seeds the global generators with
    ``seed`` (augmentations in this process, with ``num_workers=0``).
    """
    dataloader = Runner.build_dataloader(dataloader, seed=seed)
    dataset = dataloader.dataset
    if num_images > len(dataset):
        print_log(f'{num_images} images asked for, the dataset has {len(dataset)}: using all', 'current',
                  logging.WARNING)
    indices = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:num_images]
    workers = dataloader.num_workers
    loader = DataLoader(dataset, batch_size=dataloader.batch_size, sampler=indices.tolist(), num_workers=workers,
                        collate_fn=dataloader.collate_fn,
                        worker_init_fn=partial(worker_init_fn, num_workers=workers, rank=0, seed=seed)
                        if workers else None)
    set_random_seed(seed)
    with torch.no_grad():
        return [data_preprocessor(batch, False) for batch in loader]
