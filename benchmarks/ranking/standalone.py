# Copyright (c) pinas_mm contributors. All rights reserved.
"""Ground truth of the ranking benchmark: subnets of the scaled-down space, each trained stand-alone.

``--num-subnets`` subnets drawn uniformly with ``--subnet-seed`` (the same draw as ``supernets.py``) are each trained
from scratch with ``configs/pinas/subnet_mnist5k.py`` (supervised, the mnist_5k training images at 32x32, cosine
schedule to zero) under every seed of ``--seeds``; their top-1 on the held-out images goes to ``--results`` after
every run. ``--space`` and ``--task`` choose the candidates and the data (``common.SPACES``, ``common.TASKS``). An
interrupted run continues where it stopped; a complete file is the stored ground truth and is not recomputed.
Stored (``python benchmarks/ranking/pilots.py`` tabulates them):
- ``results/standalone_v1.json`` (5 epochs, seeds 0, 1) and ``results/standalone_v2.json`` (10 epochs, seeds 0-2):
  the configs' candidates on the plain digits, where the seeds do not rank the subnets alike (ICC 0.03);
- ``results/pilot_*.json``: fewer images, ``--space wide3``, ``--task cluttered`` (each 2 seeds of the first 5-19
  subnets, an interrupted run), and ``results/standalone_v3.json`` (``--space wide3 --task cluttered``, stopped at
  15 subnets x 2 seeds, ICC 0.11): none ranks alike;
- ``results/standalone_v4.json``: ``--space widths --task cluttered``, the first space whose candidates differ in
  width, and the first ground truth whose seeds rank its 30 subnets alike (2 seeds, ICC 0.57;
  docs/en/ranking_benchmark.md).

Run: ``python benchmarks/ranking/standalone.py [--seeds 0 1 2]`` (v2: 40-60 s a run on an idle 2-core CPU, about 30
minutes a seed for 30 subnets); another setting, e.g. ``python tools/dataset_converters/prepare_mnist5k.py
--cluttered``, then ``python benchmarks/ranking/standalone.py --space widths --task cluttered --seeds 0 1 --results
benchmarks/ranking/results/standalone_v4.json --jobs 2 --threads 1`` (2-7 minutes a run: 20,000 training
canvases). Two runs of one thread each at once train 1.45 times as many subnets an hour on 2 cores as one run of two
threads (one epoch of two subnets: 41 s against 60 s). A one-thread run does not repeat a two-thread run of the
same seed to the bit (floats are summed in another order), so each record says how it ran (``threads``, ``jobs``).
"""
import argparse
import multiprocessing
import os.path as osp
import random
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import pinas_mm  # noqa: F401  (checks the installed stack, applies compat fixes, registers modules)
from common import (REPO, RESULTS, SPACES, ResultsFile, add_space_arguments,  # benchmarks/ranking/ is on sys.path
                    read_data_root, sample_subnets, space_settings)

CONFIG = osp.join(REPO, 'configs/pinas/subnet_mnist5k.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-subnets', type=int, default=30)
    parser.add_argument('--subnet-seed', type=int, default=0, help='seed of the draw of subnets')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='training seeds per subnet')
    parser.add_argument('--epochs', type=int, default=10, help="the cosine schedule's length (the config's 10); "
                        '5 made results/standalone_v1.json')
    parser.add_argument('--train-images', type=int, help='train on this many of the training images, drawn '
                        'with --subnet-seed (a harder task); default: all')
    add_space_arguments(parser)
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs/ranking/standalone'))
    parser.add_argument('--results', default=osp.join(RESULTS, 'standalone_v2.json'),
                        help='a new version for other settings, e.g. results/standalone_v5.json')
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads of each run (default 2)')
    parser.add_argument('--jobs', type=int, default=1, help='runs at once, each in its own process with --threads '
                        'threads: --jobs 2 --threads 1 fills 2 cores better than one run of 2 threads (docstring)')
    args = parser.parse_args()
    read_data_root(args, parser)
    args.num_train = args.dataset['num_images']['train']
    if args.train_images and not 0 < args.train_images <= args.num_train:
        parser.error(f'--train-images must be in 1..{args.num_train}, the training images of {args.data_root}')
    return args


def train(subnet, seed, args):
    """Train one subnet from scratch, in a process of its own; its top-1 (%) on the held-out digits after the last
    epoch, and the seconds it took."""
    start = time.time()
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({
        'model.backbone.arch': subnet, 'randomness.seed': seed, 'train_cfg.max_epochs': args.epochs,
        'param_scheduler.T_max': args.epochs, 'param_scheduler.end': args.epochs,
        'train_cfg.val_interval': args.epochs + 1,  # validated once, below
        'train_dataloader.dataset.data_root': args.data_root, 'val_dataloader.dataset.data_root': args.data_root,
        'default_hooks.checkpoint': None, 'log_level': 'WARNING', 'experiment_name': f'{subnet}_seed{seed}',
        'work_dir': osp.join(args.work_dir, f'{subnet}_seed{seed}')})
    if SPACES[args.space]:
        cfg.model.backbone.candidates = SPACES[args.space]
    if args.train_images:  # a random subset: the folders list the digits class by class
        cfg.train_dataloader.dataset.indices = random.Random(args.subnet_seed).sample(range(args.num_train),
                                                                                      args.train_images)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.val()['accuracy/top1'], round(time.time() - start, 1)


def main():
    args = parse_args()
    subnets = sample_subnets(args.num_subnets, args.subnet_seed)
    settings = dict(config=osp.relpath(CONFIG, REPO), num_subnets=args.num_subnets, subnet_seed=args.subnet_seed,
                    epochs=args.epochs, subnets=subnets)  # not the seeds: a later run may add some
    if args.train_images:
        settings['train_images'] = args.train_images
    settings.update(space_settings(args))
    results = ResultsFile(args.results, settings, args.threads)
    # subnet by subnet, all seeds each: a partial file already tells whether the seeds rank alike (ICC, tau)
    todo = [(subnet, seed) for subnet in subnets for seed in args.seeds if not results.find(subnet=subnet, seed=seed)]
    print(f'{len(subnets) * len(args.seeds) - len(todo)} runs stored in {args.results}, {len(todo)} to go')
    # one writer: the runs' processes only train, this one stores each result as it comes
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context('spawn')) as pool:
        runs = {pool.submit(train, subnet, seed, args): (subnet, seed) for subnet, seed in todo}
        try:
            for index, run in enumerate(as_completed(runs), 1):
                (subnet, seed), (accuracy, seconds) = runs[run], run.result()
                results.add(dict(subnet=subnet, seed=seed, accuracy=accuracy, seconds=seconds,
                                 threads=args.threads, jobs=args.jobs))
                print(f'[{index}/{len(todo)}] subnet {subnet} seed {seed}: top-1 {accuracy:.2f} % ({seconds:.0f} s)',
                      flush=True)
        except BaseException:  # a failed or interrupted run: the others queued are not started
            pool.shutdown(wait=False, cancel_futures=True)
            raise


if __name__ == '__main__':
    main()
