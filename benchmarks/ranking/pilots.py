# Copyright (c) pinas_mm contributors. All rights reserved.
"""Does a ground truth reproduce? The table of the settings tried (docs/en/ranking_benchmark.md), from their
(partial) standalone.py files.

A pilot trains the first subnets of the draw under two seeds or more and is stopped once it is clear; only the
largest block of subnets that have the same seeds counts. Per file: the mean top-1 range over subnets, the seed
spread (std over seeds, mean over subnets, as ``ranking_v<N>.md``'s header), the architecture's share of the
variance (ICC(1)), the mean Kendall tau between seeds, and the Kendall tau of the subnets' MACs against their mean
top-1 (does the ground truth follow the subnets' cost?). Written to ``results/pilots.md``.

Run: ``python benchmarks/ranking/pilots.py [FILE ...]`` (default: ``results/standalone_v*.json`` and
``results/pilot_*.json``, the ground truths and the pilots).
"""
import argparse
import glob
import itertools
import json
import os.path as osp

import numpy as np

from common import RESULTS, accuracies_by_subnet, now  # benchmarks/ranking/ is on sys.path (script)
from pinas_mm.evaluation import kendall_tau
from supernets import intra_class_correlation, subnet_costs, where


def describe(settings):
    """A pilot's settings, as far as they differ from the stored ground truth's (standalone.py's options)."""
    parts = [f'{settings["epochs"]} epochs']
    if 'train_images' in settings:
        parts.append(f'{settings["train_images"]} training images')
    if 'space' in settings:
        parts.append(f'--space {settings["space"]}')
    if 'task' in settings:
        copies = settings['data'].get('train_copies', 1)
        parts.append(f'--task {settings["task"]}, {copies} canvas{"es" if copies > 1 else ""} per training digit')
    return ', '.join(parts)


def complete_block(by_subnet, subnets):
    """The seeds and subnets of the most runs in which every subnet has every seed (at least two seeds, unless the
    file has one so far): a stopped run, or a seed added to a few subnets, leaves a ragged edge."""
    coverage = {}
    for runs in by_subnet.values():
        for seed in runs:
            coverage[seed] = coverage.get(seed, 0) + 1
    by_coverage = sorted(coverage, key=lambda seed: (-coverage[seed], seed))
    blocks = []
    for count in range(min(2, len(by_coverage)), len(by_coverage) + 1):
        seeds = sorted(by_coverage[:count])
        rows = [s for s in subnets if all(seed in by_subnet.get(s, {}) for seed in seeds)]
        blocks.append((len(rows) * len(seeds), len(seeds), seeds, rows))
    return max(blocks)[2:]


def summarise(path):
    with open(path) as f:
        content = json.load(f)
    by_subnet = accuracies_by_subnet(content['records'])
    seeds, subnets = complete_block(by_subnet, content['settings']['subnets'])
    columns = np.array([[by_subnet[s][seed] for s in subnets] for seed in seeds])  # seeds x subnets
    means = columns.mean(axis=0)
    taus = [kendall_tau(a, b) for a, b in itertools.combinations(columns, 2)]
    macs = [cost['flops'] for cost in subnet_costs(subnets, content['settings'].get('space', 'paper'))]
    return (f'| {where(path)} | {describe(content["settings"])} | {len(subnets)} x {len(seeds)} | '
            f'{means.min():.2f}-{means.max():.2f} % | {columns.std(axis=0).mean():.2f} | '
            f'{intra_class_correlation(columns):.2f} | {np.mean(taus):.2f} | {kendall_tau(macs, means):.2f} |')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files', nargs='*', default=[*sorted(glob.glob(osp.join(RESULTS, 'standalone_v*.json'))),
                                                     *sorted(glob.glob(osp.join(RESULTS, 'pilot_*.json')))])
    args = parser.parse_args()
    lines = ['# Ground truths and pilots of the ranking benchmark', '',
             '| file | settings | subnets x seeds | top-1 (mean of seeds) | seed spread | ICC | '
             'seed-to-seed tau | tau of MACs |',
             '|---|---|---|---|---|---|---|---|', *map(summarise, args.files), '',
             f'Written by `benchmarks/ranking/pilots.py` {now()}.', '']
    with open(osp.join(RESULTS, 'pilots.md'), 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
