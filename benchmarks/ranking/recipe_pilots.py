# Copyright (c) pinas_mm contributors. All rights reserved.
"""Pilots of the CPU twin's Pi-NAS recipe, chosen on the learning monitor, never on the ranking's Kendall tau.

Each pilot trains ``configs/pinas/supernet_mnist5k.py`` on ``--task``'s images with ``--space``'s candidates, as
``supernets.py`` trains its Pi-NAS supernets, plus the pilot's options, and stores what the config's
``LearningMonitorHook`` logged before training and after every epoch: cross-path retrieval top-1 of 256 held-out
canvases (two augmented views each), cosines between images and between paths, residual BN scales and kNN top-1 of
a path's features. Results go to ``--results`` (stored like the ground truths: re-running trains only what is
missing) and a table beside it.

Run: ``python benchmarks/ranking/recipe_pilots.py --space widths --task cluttered --jobs 2 --threads 1`` (every
pilot below; ``--pilots NAME ...`` for some, ``--epochs`` for a shorter schedule: a 10-epoch pilot takes about 11
minutes as one of 2 jobs on 2 cores).
"""
import argparse
import glob
import json
import os.path as osp
import time
from concurrent.futures import ThreadPoolExecutor

from common import (LEARNING_FIGURES, REPO, RESULTS, ResultsFile, add_space_arguments, now, read_data_root,
                    space_settings)
from supernets import METHODS, slug, space_options, train_tool

# name: the options on top of supernet_mnist5k.py (the fixed recipe: zero-init, SplitBN 8, lr 0.0075, m 0.999)
PILOTS = {
    'recipe': [],
    'without SplitBN': ['model.backbone.norm_cfg.num_splits=1'],
    'without zero-init': ['model.backbone.zero_init_residual=False'],
    'teacher m = 0.99': ['model.momentum=0.01'],
    'lr 0.03': ['optim_wrapper.optimizer.lr=0.03'],
    'lr 0.12': ['optim_wrapper.optimizer.lr=0.12'],
    'one path for both branches': ['model.cross_path=False'],
    # training views only (the monitor keeps the recipe's, so that its retrieval compares like for like)
    'crops 0.5-1': ['train_dataloader.dataset.dataset.pipeline.1.transforms.0.0.crop_ratio_range=(0.5,1.0)'],
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_space_arguments(parser)
    parser.add_argument('--pilots', nargs='+', choices=list(PILOTS), default=list(PILOTS))
    parser.add_argument('--epochs', type=int, default=10, help='the schedule (the cosine lr stretched to it)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--results', default=osp.join(RESULTS, 'recipe_pilots.json'))
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs/recipe_pilots'))
    parser.add_argument('--jobs', type=int, default=1, help='pilots trained at once')
    parser.add_argument('--threads', type=int, help='OMP_NUM_THREADS of each training (default: every core)')
    args = parser.parse_args()
    read_data_root(args, parser)
    return args


def monitor_figures(work_dir):
    """{epoch: figures} that LearningMonitorHook logged in ``work_dir`` (its visualizer's scalars), the last run's
    value of an epoch winning (a resumed run logs its first epoch again)."""
    by_epoch = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                figures = {k[len('monitor/'):]: v for k, v in record.items() if k.startswith('monitor/')}
                if figures:
                    by_epoch[record['step']] = figures
    return by_epoch


def run_pilot(name, args):
    work_dir = osp.join(args.work_dir, f'{slug(name)}_e{args.epochs}_seed{args.seed}')
    options = [f'randomness.seed={args.seed}', f'train_cfg.max_epochs={args.epochs}',
               f'param_scheduler.0.T_max={args.epochs}', f'param_scheduler.0.end={args.epochs}',
               f'train_dataloader.dataset.dataset.data_root={args.data_root}',
               *space_options(METHODS['Pi-NAS'], args.space), *PILOTS[name]]
    start = time.time()
    print(f'  pilot {name!r}: {work_dir}', flush=True)
    train_tool(METHODS['Pi-NAS']['supernet'], work_dir, options, osp.join(work_dir, 'train.log'), args.threads)
    return dict(pilot=name, options=PILOTS[name], epochs=args.epochs, seed=args.seed,
                minutes=round((time.time() - start) / 60, 1), threads=args.threads, jobs=args.jobs,
                figures={str(epoch): figures for epoch, figures in sorted(monitor_figures(work_dir).items())})


def write_table(results, path):
    lines = ['# Pilots of the CPU twin\'s Pi-NAS recipe, on the learning monitor', '',
             'Each row: `configs/pinas/supernet_mnist5k.py` with the options shown, the learning monitor\'s figures '
             '(`LearningMonitorHook`) at the start and the end of the schedule. Retrieval chance: 1/256 = 0.004; kNN '
             'chance: 10 %.', '',
             '| pilot | options | seed | epochs | '
             + ' | '.join(f'{title} (start → end)' for _, title, _ in LEARNING_FIGURES) + ' | minutes |',
             '|---|---|---|---|' + '---|' * (len(LEARNING_FIGURES) + 1)]
    for r in results.records:
        epochs = sorted(r['figures'], key=int)
        first, last = r['figures'][epochs[0]], r['figures'][epochs[-1]]
        cells = [f'{format(first[k], spec)} → {format(last[k], spec)}' if k in last else ''
                 for k, _, spec in LEARNING_FIGURES]
        options = ', '.join(f'`{o}`' for o in r['options']) or '(the config as shipped)'
        lines.append(f'| {r["pilot"]} | {options} | {r["seed"]} | {r["epochs"]} | ' + ' | '.join(cells) +
                     f' | {r["minutes"]} |')
    commands = ', '.join(f'`{c}`' for c in results.content['commands'])
    lines += ['', f'Made by {commands}; stored in `{osp.basename(results.path)}`, table written {now()}.', '']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


def main():
    args = parse_args()
    results = ResultsFile(args.results, space_settings(args))
    todo = [name for name in args.pilots
            if results.find(pilot=name, options=PILOTS[name], epochs=args.epochs, seed=args.seed) is None]
    with ThreadPoolExecutor(args.jobs) as pool:
        for record in pool.map(lambda name: run_pilot(name, args), todo):
            results.add(record)
    write_table(results, osp.splitext(args.results)[0] + '.md')


if __name__ == '__main__':
    main()
