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

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from common import (LEARNING_FIGURES, REPO, RESULTS, ResultsFile, add_space_arguments, now, read_data_root,
                    space_settings)  # benchmarks/ranking/ is on sys.path
from pinas_mm.registry import HOOKS, MODELS
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


def build_supernet(args, method, seed=None):
    """A Pi-NAS-family supernet of ``method`` as supernets.py trains it, with its config's data preprocessor, loaded
    from its work dir unless ``seed`` is None (then initialised as the Runner does); and its config's monitor."""
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
    monitor = next(dict(hook) for hook in cfg.custom_hooks if hook['type'] == 'LearningMonitorHook')
    for key in ('dataloader', 'bank_dataloader'):
        monitor[key].dataset.data_root = args.data_root
    monitor.update(num_images=args.images, path_pairs=args.path_pairs)
    return model, HOOKS.build(monitor)


def main():
    args = parse_args()
    # stored like the rest of the benchmark: a supernet measured once is kept, even after its work dir is gone
    results = ResultsFile(args.out + '.json', dict(space_settings(args), images=args.images,
                                                   path_pairs=args.path_pairs))
    supernets = [(UNTRAINED, None)] + [
        (method, seed) for method, spec in METHODS.items()
        if 'reuse' not in spec and not supervised(spec)  # the label-free supernets, once each
        for seed in range(10) if osp.exists(osp.join(supernet_work_dir(method, seed, args), 'done'))]
    for method, seed in supernets:
        if results.find(method=method, seed=seed) is None:
            model, monitor = build_supernet(args, 'Pi-NAS' if seed is None else method, seed)
            monitor.load_images(model)
            results.add(dict(method=method, seed=seed, **monitor.measure(model)))
    lines = ['# Do the label-free supernets tell images apart across paths, and do their paths differ?', '',
             f'{args.images} held-out images of `{osp.relpath(args.data_root, REPO)}`, unaugmented, normalised as in '
             f'training, {args.path_pairs} pairs of paths that differ in every layer; BN on batch statistics; the '
             'figures of the training monitor (`LearningMonitorHook`, `pinas_mm.evaluation.learning`). Retrieval: '
             'share of images whose nearest teacher embedding through the other path is their own (chance '
             f'{1 / args.images:.3f}); kNN: 1,000 labelled training images, labels used only to measure.', '',
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
