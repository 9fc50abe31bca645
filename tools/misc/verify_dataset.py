# Copyright (c) pinas_mm contributors. All rights reserved.
"""List the images of a config's datasets that cannot be read, before a training run stops at one mid-epoch.

    python tools/misc/verify_dataset.py configs/pinas/supernet_mnist5k.py --workers 4

As mmpretrain's tools/misc/verify_dataset.py, each sample goes through its pipeline's ``LoadImageFromFile`` only
(the same decoder and settings training uses); wrapped datasets (``ConcatDataset``, ``RepeatDataset``, ...) are
checked once per image. Exits 1 if an image is unreadable, 0 otherwise.
"""
import argparse
import copy
import sys
from concurrent.futures import ThreadPoolExecutor

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import DATASETS, init_default_scope
    from mmengine.utils import ProgressBar
    from PIL import Image

    from pinas_mm.datasets import DatasetError
    from pinas_mm.utils.dict_action import DictAction
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')

SPLITS = ('train', 'val', 'test')


class DatasetRefused(ValueError):
    """A config whose datasets this tool cannot check; the message says why."""


def parse_args():
    parser = argparse.ArgumentParser(description='List the unreadable images of a config\'s datasets')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--split', choices=[*SPLITS, 'all'], default='all',
                        help='the dataloader to check (all: each of train/val/test the config has)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    parser.add_argument('--workers', type=int, default=1, help='threads reading images at once')
    parser.add_argument('--out-path', help='also write the unreadable images here, one "path<TAB>reason" a line')
    args = parser.parse_args()
    if args.workers < 1:
        parser.error('--workers must be at least 1')
    return args


def only_loading(dataset_cfg):
    """The dataset config with each pipeline cut to its ``LoadImageFromFile`` step (none for wrappers' own)."""
    cfg = copy.deepcopy(dataset_cfg)
    if 'pipeline' in cfg:
        loads = [step for step in cfg.pipeline if str(step.get('type', '')).endswith('LoadImageFromFile')]
        if not loads and 'dataset' not in cfg and 'datasets' not in cfg:
            raise DatasetRefused(f'the {cfg.get("type")} dataset\'s pipeline has no LoadImageFromFile step: it reads '
                                 'no image files, nothing to check')
        cfg.pipeline = loads[:1]
    for key in ('dataset', 'datasets'):
        if isinstance(cfg.get(key), dict):
            cfg[key] = only_loading(cfg[key])
        elif isinstance(cfg.get(key), (list, tuple)):
            cfg[key] = [only_loading(inner) for inner in cfg[key]]
    return cfg


def leaves(dataset):
    """The datasets that hold the samples, under any wrappers."""
    if hasattr(dataset, 'datasets'):
        return [leaf for inner in dataset.datasets for leaf in leaves(inner)]
    if hasattr(dataset, 'dataset'):
        return leaves(dataset.dataset)
    return [dataset]


def check(dataset, index):
    """``(image path, reason)`` if the sample's image cannot be loaded, else None."""
    info = dataset.get_data_info(index)
    path = info.get('img_path', f'sample {index}')
    try:
        if dataset.pipeline(info) is None:  # LoadImageFromFile(ignore_empty=True) skips what it cannot read
            return path, 'LoadImageFromFile returned nothing (ignore_empty=True)'
    except Exception as error:
        message = str(error).replace(f': {path}', '').replace(str(path), '').strip()
        return path, f'{type(error).__name__}: {message}{pillow_reason(path)}'
    return None


def pillow_reason(path):
    """Pillow's reason for a file the decoder rejected, as cv2 gives none ("failed to load image")."""
    try:
        with Image.open(path) as image:
            image.load()
    except Exception as error:
        return f' (Pillow: {error})'
    return ''


def verify(dataset, workers):
    """The unreadable images of one built dataset, in order."""
    found = []
    for leaf in leaves(dataset):
        progress = ProgressBar(len(leaf), file=sys.stderr)
        with ThreadPoolExecutor(workers) as pool:
            for result in pool.map(lambda index: check(leaf, index), range(len(leaf))):
                progress.update()
                if result is not None:
                    found.append(result)
        sys.stderr.write('\n')
    return found, sum(len(leaf) for leaf in leaves(dataset))


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    splits = [s for s in SPLITS if isinstance(cfg.get(f'{s}_dataloader'), dict)] if args.split == 'all' else \
        [args.split]
    if not splits or not isinstance(cfg.get(f'{splits[0]}_dataloader'), dict):
        raise DatasetRefused(f'{args.config} has no {args.split if args.split != "all" else "train, val or test"}'
                             '_dataloader')
    checked, counts, unreadable = [], [], []
    for split in splits:
        dataset_cfg = only_loading(cfg[f'{split}_dataloader'].dataset)
        if dataset_cfg in checked:
            continue  # val and test often read the same data
        checked.append(dataset_cfg)
        found, count = verify(DATASETS.build(dataset_cfg), args.workers)
        counts.append(f'{split} {count}')
        unreadable += found
    for path, reason in unreadable:
        print(f'{path}: {reason}')
    if args.out_path:
        with open(args.out_path, 'w') as f:
            f.writelines(f'{path}\t{reason}\n' for path, reason in unreadable)
    total = sum(int(count.split()[1]) for count in counts)
    print(f'{total} images checked ({", ".join(counts)}), {len(unreadable)} unreadable')
    return 1 if unreadable else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    # a refusal (a config or data problem the user must fix): its message, no traceback
    except (DatasetError, DatasetRefused, FileNotFoundError) as error:
        sys.exit(f'error: {error}')
