# Copyright (c) pinas_mm contributors. All rights reserved.
"""Did a label-free supernet learn to tell images apart, and do its paths differ? A check of the ranking benchmark.

A Pi-NAS supernet's score is its contrastive loss, which ranks subnets only if the embeddings tell images apart
across paths and the paths compute different functions. For every trained Pi-NAS-family supernet in ``--work-dir``
(``supernets.py``'s; an untrained one, initialised as the Runner does, as the floor), this measures what the training
monitor (``LearningMonitorHook`` of the supernet's config) logs, with the config's own held-out images, kNN bank and
data preprocessor: cross-path retrieval top-1 (chance: 1 / images), the mean cosine between different images, of an
image's positive pair (student alpha, teacher beta), of an image through two paths of the student, the candidates'
residual-branch BN scale, and kNN top-1 of a path's backbone features (see ``pinas_mm.evaluation.learning``).

Run: ``python benchmarks/ranking/embeddings.py --space widths --task cluttered`` (a minute); writes
``results/embeddings_<version>.{md,json}``, where a supernet measured once is kept (re-running measures only the
supernets not yet stored).
"""
import argparse
import os.path as osp
from types import SimpleNamespace

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmpretrain.models import SelfSupDataPreprocessor

from common import (LEARNING_FIGURES, REPO, RESULTS, ResultsFile, add_space_arguments, now, read_data_root,
                    space_settings)  # benchmarks/ranking/ is on sys.path
from pinas_mm.evaluation.learning import backbone_figures
from pinas_mm.registry import HOOKS, MODELS
from pinas_mm.utils.dict_action import DictAction
from supernets import METHODS, default_work_dir, space_options, supernet_work_dir, supervised

UNTRAINED = 'untrained (as initialised)'  # the floor: a supernet as built, before training


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_space_arguments(parser)  # as supernets.py's
    parser.add_argument('--work-dir', help="supernets.py's (default: as it chooses from --space and --task)")
    parser.add_argument('--images', type=int, default=256, help='held-out images (a fixed seeded subset)')
    parser.add_argument('--path-pairs', type=int, default=4, help='pairs of paths averaged over')
    parser.add_argument('--out', default=osp.join(RESULTS, 'embeddings_v3'), help='results path without extension')
    args = parser.parse_args()
    read_data_root(args, parser)
    args.work_dir = args.work_dir or default_work_dir(args)
    return args


def build_model(args, method, seed=None):
    """The model of ``method``'s config as supernets.py trains it, with the config's data preprocessor, loaded from
    its work dir unless ``seed`` is None (then initialised as the Runner does); and the config."""
    spec = METHODS[method]
    options = [*spec.get('train', []), *space_options(spec, args.space)]
    cfg = Config.fromfile(osp.join(REPO, 'configs/pinas', spec['supernet']))
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='*', action=DictAction, default={})
    cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)  # parsed as tools/train.py does
    init_default_scope(cfg.default_scope)
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))  # as the Runner merges it in
    torch.manual_seed(0)  # the untrained supernet's initial weights, reproducibly
    model = MODELS.build(cfg.model)
    model.init_weights()
    if seed is not None:
        with open(osp.join(supernet_work_dir(method, seed, args), 'last_checkpoint')) as f:
            load_checkpoint(model, f.read().strip(), map_location='cpu', logger='silent')
    return model, cfg


def build_monitor(args):
    """The Pi-NAS config's learning monitor, on ``args.data_root``: the held-out images and kNN bank of every row."""
    cfg = Config.fromfile(osp.join(REPO, 'configs/pinas', METHODS['Pi-NAS']['supernet']))
    monitor = next(dict(hook) for hook in cfg.custom_hooks if hook['type'] == 'LearningMonitorHook')
    for key in ('dataloader', 'bank_dataloader'):
        monitor[key].dataset.data_root = args.data_root
    monitor.update(num_images=args.images, path_pairs=args.path_pairs)
    return HOOKS.build(monitor)


def measure(args, method, seed=None):
    """The monitor's figures of a Pi-NAS-family supernet, and for every supernet, supervised ones too, those of its
    backbone (:func:`backbone_figures`), on the held-out images preprocessed as the supernet's config does."""
    model = build_model(args, method, seed)[0]
    monitor = build_monitor(args)
    label_free = not supervised(METHODS[method])
    # a classifier's preprocessor takes one view: its normalisation, applied to every view of the monitor's images
    normalisation = model.data_preprocessor
    monitor.load_images(model if label_free else SimpleNamespace(data_preprocessor=SelfSupDataPreprocessor(
        mean=normalisation.mean.flatten().tolist(), std=normalisation.std.flatten().tolist(),
        to_rgb=normalisation.to_rgb)))
    figures = monitor.measure(model) if label_free else {}
    backbone = model.backbone if label_free else model.architecture.backbone
    figures.update(backbone_figures(backbone, monitor.images, args.path_pairs, monitor.seed, monitor.labels,
                                    monitor.bank, monitor.bank_labels))
    return figures


def trained(args, label_free):
    """(method, seed) of every finished supernet of supernets.py's, label-free or supervised, once each."""
    return [(method, seed) for method, spec in METHODS.items()
            if 'reuse' not in spec and 'on' not in spec and supervised(spec) != label_free
            for seed in range(10) if osp.exists(osp.join(supernet_work_dir(method, seed, args), 'done'))]


def main():
    args = parse_args()
    # stored like the rest of the benchmark: a supernet measured once is kept, even after its work dir is gone
    results = ResultsFile(args.out + '.json', dict(space_settings(args), images=args.images,
                                                   path_pairs=args.path_pairs))
    for method, seed in [(UNTRAINED, None)] + trained(args, label_free=True) + trained(args, label_free=False):
        if results.find(method=method, seed=seed) is None:
            results.add(dict(method=method, seed=seed, **measure(args, 'Pi-NAS' if seed is None else method, seed)))
    lines = ['# Do the label-free supernets tell images apart across paths, and do their paths differ?', '',
             f'{args.images} held-out images of `{osp.relpath(args.data_root, REPO)}` (plain, and two fixed augmented '
             f'views each), normalised as in training, {args.path_pairs} pairs of paths that differ in every layer; '
             'BN on batch statistics; the figures of the training monitor (`LearningMonitorHook`, '
             '`pinas_mm.evaluation.learning`). Retrieval: share of images whose nearest teacher embedding (through '
             f'the other path; of the other view, or of the plain image) is their own (chance {1 / args.images:.3f}); '
             'residual BN scale: mean |gamma| of the candidates\' last BN (0 at initialisation); cos, two paths '
             '(backbone features): an image\'s pooled backbone features through two paths, for self-supervised and '
             'supervised supernets alike; kNN: 1,000 labelled training images, labels used only to measure.', '',
             '| supernet | seed | ' + ' | '.join(title for _, title, _ in LEARNING_FIGURES) + ' |',
             '|---|---|' + '---|' * len(LEARNING_FIGURES)]
    lines += [f'| {r["method"]} | {"" if r["seed"] is None else r["seed"]} | ' +
              ' | '.join(format(r[key], spec) if key in r else '' for key, _, spec in LEARNING_FIGURES) + ' |'
              for r in results.records]
    commands = ', '.join(f'`{command}`' for command in results.content['commands'])
    lines += ['', f'Made by {commands} from the supernets in `{osp.relpath(args.work_dir, REPO)}`; '
              f'stored in `{osp.relpath(args.out, RESULTS)}.json`, table written {now()}.', '']
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
