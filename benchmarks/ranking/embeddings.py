# Copyright (c) pinas_mm contributors. All rights reserved.
"""Did a label-free supernet learn to tell images apart, or only paths? A check of the ranking benchmark's supernets.

A Pi-NAS supernet's score is its contrastive loss, which ranks subnets only if the embeddings tell images apart
across paths. For every trained Pi-NAS-family supernet in ``--work-dir`` (``supernets.py``'s; an untrained one as the
floor), held-out images are embedded, unaugmented, by the student through path alpha and by the teacher through
alpha and through beta (two paths that differ in every layer, as in training), and it reports:

- the mean cosine of two different images (student, same path): near 1, the embeddings have collapsed together;
- the mean cosine of an image with itself through the teacher, on the same path and on the other path;
- cross-path retrieval top-1: the share of images whose nearest teacher embedding through the *other* path is their
  own (chance: 1 / images). This is what cross-path learning trains, and what its score needs.

BN uses batch statistics, as in training. Run: ``python benchmarks/ranking/embeddings.py --space widths --task
cluttered`` (a minute); writes ``results/embeddings_<version>.{md,json}``, where a supernet measured once is kept
(re-running measures only the supernets not yet stored).
"""
import argparse
import glob
import os.path as osp
import re

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from PIL import Image

from common import (REPO, RESULTS, ResultsFile, add_space_arguments, now, read_data_root,
                    space_settings)  # benchmarks/ranking/ is on sys.path
from pinas_mm.models.utils import sample_two_paths
from pinas_mm.registry import MODELS
from supernets import METHODS, default_work_dir, space_options, supernet_work_dir, supervised

UNTRAINED = 'untrained (as initialised)'  # the floor: a supernet as built, before training


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_space_arguments(parser)  # as supernets.py's
    parser.add_argument('--work-dir', help="supernets.py's (default: as it chooses from --space and --task)")
    parser.add_argument('--images', type=int, default=128, help='held-out images, one canvas each of as many digits')
    parser.add_argument('--path-pairs', type=int, default=8, help='pairs of paths averaged over')
    parser.add_argument('--out', default=osp.join(RESULTS, 'embeddings_v2'), help='results path without extension')
    args = parser.parse_args()
    read_data_root(args, parser)
    args.work_dir = args.work_dir or default_work_dir(args)
    return args


def held_out_images(data_root, count):
    """``count`` held-out images spread over the digits, one of each (``<index>.png`` of the plain task, the first
    canvas ``<index>_0.png`` of the cluttered one), as one uint8 batch."""
    files = sorted(f for f in glob.glob(osp.join(data_root, 'val', '*', '*.png'))
                   if re.fullmatch(r'\d+(_0)?\.png', osp.basename(f)))
    files = files[::max(1, len(files) // count)][:count]
    return torch.stack([torch.from_numpy(np.array(Image.open(f).convert('RGB'))).permute(2, 0, 1) for f in files])


def build_supernet(args, method, seed=None):
    """A Pi-NAS-family supernet of ``method`` as supernets.py trains it, loaded from its work dir unless ``seed`` is
    None (then as initialised)."""
    spec = METHODS[method]
    options = [*spec.get('train', []), *space_options(spec, args.space)]
    cfg = Config.fromfile(osp.join(REPO, 'configs/pinas', spec['supernet']))
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='*', action=DictAction, default={})
    cfg.merge_from_dict(parser.parse_args(['--cfg-options', *options]).cfg_options)  # parsed as tools/train.py does
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)  # the untrained supernet's initial weights, reproducibly
    model = MODELS.build(cfg.model)
    if seed is not None:
        with open(osp.join(supernet_work_dir(method, seed, args), 'last_checkpoint')) as f:
            load_checkpoint(model, f.read().strip(), map_location='cpu', logger='silent')
    return model.train()


@torch.no_grad()
def measure(model, images, path_pairs):
    inputs = model.data_preprocessor(dict(inputs=[images], data_samples=None))['inputs'][0]
    generator = torch.Generator().manual_seed(0)  # the same paths for every supernet
    figures = []
    for _ in range(path_pairs):
        alpha, beta = sample_two_paths(model.student_layers, generator, True)
        query = model._encode_query(inputs, alpha)
        same_path, other_path = model._encode_key(inputs, alpha), model._encode_key(inputs, beta)
        between = query @ query.T
        count = len(query)
        figures.append([float((between.sum() - between.diag().sum()) / (count * (count - 1))),
                        float((query * same_path).sum(1).mean()), float((query * other_path).sum(1).mean()),
                        float(((query @ other_path.T).argmax(1) == torch.arange(count)).float().mean())])
    return dict(zip(('cos_between_images', 'cos_same_image_same_path', 'cos_same_image_other_path',
                     'cross_path_retrieval_top1'), np.mean(figures, axis=0).tolist()))


def main():
    args = parse_args()
    # stored like the rest of the benchmark: a supernet measured once is kept, even after its work dir is gone
    results = ResultsFile(args.out + '.json', dict(space_settings(args), images=args.images,
                                                   path_pairs=args.path_pairs))
    supernets = [(UNTRAINED, None)] + [
        (method, seed) for method, spec in METHODS.items()
        if 'reuse' not in spec and not supervised(spec)  # the label-free supernets, once each
        for seed in range(10) if osp.exists(osp.join(supernet_work_dir(method, seed, args), 'done'))]
    images = held_out_images(args.data_root, args.images)
    for method, seed in supernets:
        if results.find(method=method, seed=seed) is None:
            model = build_supernet(args, 'Pi-NAS' if seed is None else method, seed)
            results.add(dict(method=method, seed=seed, **measure(model, images, args.path_pairs)))
    lines = [f'# Do the label-free supernets tell images apart across paths?', '',
             f'{args.images} held-out images of `{osp.relpath(args.data_root, REPO)}`, unaugmented, {args.path_pairs} '
             'pairs of paths that differ in every layer; BN on batch statistics. Cosines of L2-normalised '
             f'embeddings; retrieval: share of images whose nearest teacher embedding through the other path is '
             f'their own (chance {1 / args.images:.3f}).', '',
             '| supernet | seed | cos, two images (one path) | cos, same image, same path | cos, same image, other '
             'path | cross-path retrieval top-1 |', '|---|---|---|---|---|---|']
    lines += [f'| {r["method"]} | {"" if r["seed"] is None else r["seed"]} | {r["cos_between_images"]:.3f} | '
              f'{r["cos_same_image_same_path"]:.3f} | {r["cos_same_image_other_path"]:.3f} | '
              f'{r["cross_path_retrieval_top1"]:.3f} |' for r in results.records]
    commands = ', '.join(f'`{command}`' for command in results.content['commands'])
    lines += ['', f'Made by {commands} from the supernets in `{osp.relpath(args.work_dir, REPO)}`; '
              f'stored in `{osp.relpath(args.out, RESULTS)}.json`, table written {now()}.', '']
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
