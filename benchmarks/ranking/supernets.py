# Copyright (c) pinas_mm contributors. All rights reserved.
"""The ranking benchmark: how well does each supernet rank subnets like their stand-alone accuracy?

For every method below and seed, a supernet of the scaled-down space (``--space``) is trained on the mnist_5k training
images (``--task``) with the repository's own config (``tools/train.py``), then scores the benchmark's subnets exactly
as its search would (``SubnetScoreLoop``: the same score, BN recalibration and images as ``search_mnist5k.py``
/ ``spos_search_mnist5k.py``). The scores go to ``--results`` (stored like the ground truth: re-running trains and
scores only what is missing), and are compared with the mean stand-alone top-1 of ``standalone.py``'s results of the
same space and task: Kendall tau, Spearman rho, top-5 overlap, with 95 % bootstrap intervals over the subnets, in
``results/ranking_<version>.{md,json}`` and a scatter plot per method.

Stored: ``supernet_scores_v1.json`` (the configs' candidates on the plain digits; against ``standalone_v2.json``),
``supernet_scores_v2.json`` (``--space widths --task cluttered``; against ``standalone_v4.json``) and
``supernet_scores_v3.json`` (the same, with the Pi-NAS recipe of the official code of then; v1 and v2 measured
supernets of a recipe that collapsed) and ``supernet_scores_v4_e<E>.json`` (the same, with the recipe of the official
code in every detail, trained for E epochs: ``schedule_curve.py``).

Methods: Pi-NAS (self-supervised, label-free contrastive score after BN recalibration), the same supernet scored by
kNN top-1 (labels only measure), SPOS (supervised, its own classifier's accuracy), MixPath (SPOS training with up to 2
candidates per layer and Shadow BN), and the Pi-NAS ablations: without cross-path (the same path in both branches),
without negatives (no queue, cosine loss), without BN recalibration (the Pi-NAS supernet scored with its
training-time statistics). Probes (``probe=True``, e.g. the teacher's momentum) run only when named in
``--methods``. ``embeddings.py`` checks what the label-free supernets learned.

Run: ``python benchmarks/ranking/supernets.py`` (v1's table from its stored scores; training them all took about 30
minutes on 2 CPU cores; v2's and v3's, with ``--jobs 2 --threads 1``, about 45: a Pi-NAS supernet 11 minutes, a SPOS
one 2). Another setting: the same ``--space``/``--task`` as its ground truth, ``--standalone <its file> --results
benchmarks/ranking/results/supernet_scores_v3.json``. The table needs ``standalone.py``'s results, the supernets and
scores do not.
"""
import argparse
import functools
import itertools
import json
import os
import os.path as osp
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
from mmengine.config import Config

from common import (NUM_CLASSES, REPO, RESULTS, SPACES, ResultsFile,  # benchmarks/ranking/ is on sys.path
                    accuracies_by_subnet, add_space_arguments, now, read_data_root, sample_subnets, space_settings)
from pinas_mm.evaluation import bootstrap_ci, kendall_tau, partial_kendall_tau, spearman_rho, top_k_overlap
from pinas_mm.models import PiNASResNeSt
from pinas_mm.models.task_modules import SubnetCostTable
from pinas_mm.visualization import plot_rank_correlation

# name: supernet config and its training options, search config whose score ranks, scoring-only options,
# and a method whose supernet is reused (same training)
METHODS = {
    'Pi-NAS': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py'),
    'SPOS': dict(supernet='spos_supernet_mnist5k.py', search='spos_search_mnist5k.py'),
    'MixPath': dict(supernet='spos_supernet_mnist5k.py', search='spos_search_mnist5k.py',
                    train=['model.architecture.backbone.max_paths=2']),
    # the same Pi-NAS supernet scored by kNN top-1 of its backbone features (labels only measure): separates the
    # supernet's quality from its label-free score's
    'Pi-NAS, kNN score': dict(supernet='supernet_mnist5k.py', search='search_knn_mnist5k.py', reuse='Pi-NAS'),
    # the official search's score: a linear classifier trained with labels on the frozen Pi-NAS supernet over random
    # paths (linear_probe_mnist5k.py), each subnet scored by its top-1 after BN recalibration
    'Pi-NAS, linear-probe score': dict(supernet='linear_probe_mnist5k.py', search='search_linear_probe_mnist5k.py',
                                       on='Pi-NAS'),
    'Pi-NAS w/o cross-path': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py',
                                  train=['model.cross_path=False'], ablation=True),
    'Pi-NAS w/o negatives': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py',
                                 train=['model.use_negatives=False'], ablation=True),
    'Pi-NAS w/o BN recalibration': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py',
                                        score=['train_cfg.calibrate_sample_num=0'], reuse='Pi-NAS', ablation=True),
    # a probe, run only when named in --methods: the teacher's momentum m = 0.99 (a horizon of 100 steps) instead of
    # the paper's 0.999 (1,000 steps, a third of this benchmark's 3,120): does a teacher that follows the student
    # faster let cross-path learning learn on this short schedule? (docs/en/ranking_benchmark.md: it does not)
    'Pi-NAS, teacher m = 0.99': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py',
                                     train=['model.momentum=0.01'], probe=True),
    # a probe: the same recipe for 30 epochs (9,360 steps; the cosine schedule stretched to match) instead of 10:
    # does the contrastive loss leave chance, and the ranking improve, with a longer schedule?
    'Pi-NAS, 30 epochs': dict(supernet='supernet_mnist5k.py', search='search_mnist5k.py',
                              train=['train_cfg.max_epochs=30', 'param_scheduler.0.T_max=30',
                                     'param_scheduler.0.end=30'], probe=True),
}
TOP_K = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-subnets', type=int, default=30, help="as standalone.py's")
    parser.add_argument('--subnet-seed', type=int, default=0, help="as standalone.py's")
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1], help='supernet seeds of the methods')
    parser.add_argument('--ablation-seeds', type=int, nargs='+', default=[0], help='supernet seeds of the ablations')
    parser.add_argument('--methods', nargs='*', choices=list(METHODS),
                        default=[method for method, spec in METHODS.items() if not spec.get('probe')],
                        help='none: no supernet, the table of what needs no training (noise ceiling, MACs, params); '
                        'default: all but the probes')
    add_space_arguments(parser)  # as standalone.py's
    parser.add_argument('--work-dir', help='default: work_dirs/ranking, or work_dirs/ranking_<space>_<task> for '
                        'the supernets of another space or task')
    parser.add_argument('--standalone', default=osp.join(RESULTS, 'standalone_v2.json'),
                        help="standalone.py's results: the ground truth")
    parser.add_argument('--results', default=osp.join(RESULTS, 'supernet_scores_v1.json'))
    parser.add_argument('--epochs', type=int, help='train every supernet for this many epochs, its cosine schedule '
                        "stretched to match (default: each config's own); a linear probe keeps its own schedule")
    parser.add_argument('--batch', type=int, help="train every supernet (and probe) on this many images a step, at its "
                        "config's per-image learning rate, e.g. to fill a GPU (default: each config's own)")
    parser.add_argument('--bootstrap', type=int, default=2000, help='bootstrap resamples of the subnets')
    parser.add_argument('--jobs', type=int, default=1, help='supernets trained (then scored) at once, each a '
                        'tools/train.py process')
    parser.add_argument('--threads', type=int, help="OMP_NUM_THREADS of each tools/train.py process (default: "
                        "torch's own, every core). Whether --jobs 2 --threads 1 beats one job on 2 cores, as it does "
                        "for standalone.py, is not measured: the Pi-NAS configs also load data in 2 workers")
    args = parser.parse_args()
    read_data_root(args, parser)
    return args


def slug(method):
    """'Pi-NAS w/o cross-path' -> 'pinas_wo_crosspath': the method's name in work dirs and plots."""
    return re.sub(r'[^a-z0-9]+', '_', method.lower().replace('-', '').replace('/', '')).strip('_')


def train_tool(config, work_dir, options, log, threads=None):
    """tools/train.py with one of the repository's configs and ``options`` (resumed if an earlier run left a
    checkpoint) on ``threads`` threads, its output appended to ``log``."""
    resume = ['--resume'] if osp.exists(osp.join(work_dir, 'last_checkpoint')) else []
    command = [sys.executable, 'tools/train.py', f'configs/pinas/{config}', '--work-dir', work_dir, *resume,
               '--cfg-options', *options]
    os.makedirs(work_dir, exist_ok=True)
    with open(log, 'a') as f:
        result = subprocess.run(command, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                env=dict(os.environ, **({'OMP_NUM_THREADS': str(threads)} if threads else {})))
    if result.returncode:
        raise SystemExit(f'{" ".join(command)} failed (exit code {result.returncode}); see {log}')


def supervised(spec):
    """Whether a method trains a classifier (``model.architecture``) validated with labels: a SPOS-style supernet, or
    a linear probe on a self-supervised one."""
    return spec['supernet'].startswith(('spos', 'linear_probe'))


def space_options(spec, space):
    """The config options that give a method's supernet the candidates of ``space`` (none: the configs' own)."""
    if not SPACES[space]:
        return []
    backbone = 'model.architecture.backbone' if supervised(spec) else 'model.backbone'
    return [f'{backbone}.candidates=[{",".join(f"({r},{c},{w})" for r, c, w in SPACES[space])}]']


def default_work_dir(args):
    """work_dirs/ranking for the configs' own space and the plain digits, else work_dirs/ranking_<space>_<task>."""
    default = (args.space, args.task) == ('paper', 'digits')
    return osp.join(REPO, 'work_dirs/ranking' + ('' if default else f'_{args.space}_{args.task}'))


def supernet_work_dir(method, seed, args):
    """Where the supernet of ``method`` under ``seed`` is trained (``done`` in it once finished)."""
    return osp.join(args.work_dir, f'{slug(method)}_seed{seed}')


def schedule_options(spec, epochs):
    """The config options that train a method's supernet for ``epochs`` epochs, its cosine schedule stretched to
    match (none for a linear probe, whose schedule is its own, or without ``epochs``)."""
    if epochs is None or 'on' in spec:
        return []
    scheduler = Config.fromfile(osp.join(REPO, 'configs/pinas', spec['supernet'])).param_scheduler
    key = 'param_scheduler.0' if isinstance(scheduler, list) else 'param_scheduler'
    return [f'train_cfg.max_epochs={epochs}', f'{key}.T_max={epochs}', f'{key}.end={epochs}']


def batch_options(spec, batch):
    """The config options that train a method's supernet (or probe) on ``batch`` images a step at the config's
    per-image learning rate, BN still normalising slices of the config's size (none without ``batch``)."""
    if batch is None:
        return []
    cfg = Config.fromfile(osp.join(REPO, 'configs/pinas', spec['supernet']))
    scale = batch / cfg.train_dataloader.batch_size
    options = [f'train_dataloader.batch_size={batch}',
               f'optim_wrapper.optimizer.lr={cfg.optim_wrapper.optimizer.lr * scale}']
    backbone = 'model.architecture.backbone' if supervised(spec) else 'model.backbone'
    norm_cfg = (cfg.model.architecture if supervised(spec) else cfg.model).backbone.get('norm_cfg', {})
    if 'num_splits' in norm_cfg:
        options.append(f'{backbone}.norm_cfg.num_splits={round(norm_cfg["num_splits"] * scale)}')
    return options


def supernet_checkpoint(method, seed, args):
    """The trained supernet of ``method`` under ``seed`` (for a linear probe, the probe trained on the supernet of
    the method it is ``on``), trained first if it is not yet."""
    spec = METHODS[method]
    trained = spec.get('reuse', method)
    work_dir = supernet_work_dir(trained, seed, args)
    if not osp.exists(osp.join(work_dir, 'done')):
        wrapped = '.dataset' if spec['supernet'] == 'supernet_mnist5k.py' else ''  # inside SeededAugmentDataset
        data = [f'train_dataloader.dataset{wrapped}.data_root={args.data_root}']
        if supervised(spec):
            data.append(f'val_dataloader.dataset.data_root={args.data_root}')
        if 'on' in spec:
            data.append('model.architecture.backbone.init_cfg.checkpoint='
                        + supernet_checkpoint(spec['on'], seed, args))
        print(f'  training the {trained} supernet, seed {seed}: {work_dir}', flush=True)
        train_tool(spec['supernet'], work_dir, [f'randomness.seed={seed}', *spec.get('train', []),
                                                *args.schedule[trained], *space_options(spec, args.space), *data],
                   osp.join(work_dir, 'train.log'), args.threads)
        open(osp.join(work_dir, 'done'), 'w').close()
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def scoring_dataloaders(search_config):
    """The dataloaders of a search config's ``train_cfg`` that read the benchmark's images (a kNN score's bank too).

    Read in the main thread: mmengine's ``mmpretrain::`` base configs go through pkg_resources, which fails when two
    threads load configs at once."""
    score = Config.fromfile(osp.join(REPO, 'configs/pinas', search_config)).train_cfg.score
    return ['dataloader', 'calibrate_dataloader'] + (['score.bank_dataloader'] if 'bank_dataloader' in score else [])


def score_subnets(method, seed, subnets_file, args, data):
    """{subnet: score} of the ``method`` supernet under ``seed``, as its search scores candidates, with the data root
    set in the ``train_cfg`` dataloaders ``data``."""
    spec = METHODS[method]
    checkpoint = supernet_checkpoint(method, seed, args)
    work_dir = supernet_work_dir(method, seed, args) + '_scores'
    print(f'  scoring {method}, seed {seed}: {work_dir}', flush=True)
    train_tool(spec['search'], work_dir, [
        'train_cfg.type=SubnetScoreLoop', f'train_cfg.subnets={subnets_file}', f'load_from={checkpoint}',
        *(f'train_cfg.{loader}.dataset.data_root={args.data_root}' for loader in data), *spec.get('train', []),
        *space_options(spec, args.space), *spec.get('score', [])], osp.join(work_dir, 'score.log'), args.threads)
    with open(osp.join(work_dir, 'subnet_scores.json')) as f:
        return {r['subnet']: r['score'] for r in json.load(f)}  # keyed as listed in subnets_file


def compare(scores_by_seed, truth, args, macs=None):
    """Tau, rho and top-k overlap of the seeds' scores against ``truth``: the mean over seeds, each seed's figure,
    and a bootstrap interval of the mean over the subnets; with ``macs``, how far the scores follow MACs and what
    they rank beyond them (partial tau)."""
    scores, truth = np.asarray(scores_by_seed, dtype=float).T, np.asarray(truth, dtype=float)  # subnets x seeds
    row = {}
    for name, measure in (('kendall_tau', kendall_tau), ('spearman_rho', spearman_rho)):
        def mean_over_seeds(columns, true, measure=measure):
            return float(np.mean([measure(column, true) for column in columns.T]))
        row[name] = dict(mean=mean_over_seeds(scores, truth), per_seed=[measure(c, truth) for c in scores.T],
                         ci95=bootstrap_ci(scores, truth, mean_over_seeds, args.bootstrap))
    row[f'top{TOP_K}_overlap'] = float(np.mean([top_k_overlap(column, truth, TOP_K) for column in scores.T]))
    # does the method rank alike when trained again? (the ground truth's own figure is the noise-ceiling row)
    pairs = list(itertools.combinations(scores.T, 2))
    row['seed_to_seed_tau'] = float(np.mean([kendall_tau(a, b) for a, b in pairs])) if pairs else None
    # do the scores tell subnets apart by more than a seed moves them? (the subnets' spread / the seeds' spread)
    row['subnet_to_seed_spread'] = float(scores.mean(axis=1).std() / scores.std(axis=1, ddof=1).mean()) \
        if scores.shape[1] > 1 and scores.std(axis=1).any() else None
    if macs is not None:  # MACs alone rank these subnets too: does the score add to them?
        row['tau_with_macs'] = float(np.mean([kendall_tau(column, macs) for column in scores.T]))
        row['partial_tau_given_macs'] = float(np.mean([partial_kendall_tau(column, truth, macs)
                                                       for column in scores.T]))
    return row


@functools.lru_cache
def cost_table(space):
    """The per-layer MACs and parameters of ``space``'s candidates at the benchmark's 32x32 input (built once)."""
    backbone = Config.fromfile(osp.join(REPO, 'configs/pinas', METHODS['Pi-NAS']['supernet'])).model.backbone
    backbone.pop('type')
    if SPACES[space]:
        backbone['candidates'] = SPACES[space]
    return SubnetCostTable(PiNASResNeSt(**backbone), input_shape=(3, 32, 32))


def subnet_costs(subnets, space):
    """MACs and parameters (millions) of each subnet, as the search's constraints count them: proxies that need no
    training, which a supernet's score has to beat to be worth its training."""
    return [cost_table(space)(list(subnet)) for subnet in subnets]


def load_truth(path, subnets, settings):
    """Each subnet's mean stand-alone top-1 over the seeds stored, and the per-seed columns."""
    if not osp.exists(path):
        raise SystemExit(f'{path} does not exist: run benchmarks/ranking/standalone.py first')
    with open(path) as f:
        standalone = json.load(f)
    if standalone['settings']['subnets'] != subnets:
        raise SystemExit(f'{path} holds other subnets than --num-subnets/--subnet-seed draw')
    theirs = {key: standalone['settings'].get(key) for key in ('space', 'candidates', 'task', 'data')}
    ours = {key: settings.get(key) for key in theirs}
    if theirs != ours:
        raise SystemExit(f'{path} holds subnets trained with {theirs}, the supernets have {ours}: give --space and '
                         '--task as standalone.py had them')
    by_subnet = accuracies_by_subnet(standalone['records'])
    seeds = {seed for runs in by_subnet.values() for seed in runs}
    complete = sorted(seed for seed in seeds if all(seed in by_subnet.get(s, {}) for s in subnets))
    if not complete:
        raise SystemExit(f'{path} has no seed with every subnet trained: run benchmarks/ranking/standalone.py')
    columns = [[by_subnet[s][seed] for s in subnets] for seed in complete]
    return np.mean(columns, axis=0), columns, complete, standalone


def fmt(entry):
    low, high = entry['ci95']
    return f'{entry["mean"]:.3f} [{low:.3f}, {high:.3f}]'


def intra_class_correlation(columns):
    """ICC(1) of the seeds x subnets accuracies: how much of one run's variance is the subnet's, not the seed's."""
    columns = np.asarray(columns, dtype=float)
    if len(columns) < 2:
        return float('nan')
    seeds, within = len(columns), columns.var(axis=0, ddof=1).mean()
    between = columns.mean(axis=0).var(ddof=1) - within / seeds  # the subnets' own variance, seed noise removed
    return float(between / (between + within))


def attainable_tau(icc, num_seeds):
    """The Kendall tau that a perfect score (each subnet's true accuracy) would be expected to reach against a mean
    over ``num_seeds`` stand-alone runs whose architecture share of the variance is ``icc``: the Spearman-Brown
    reliability of that mean gives the correlation, and Greiner's relation for normal variables
    (tau = 2 / pi * arcsin r) the tau. No supernet can be expected to rank above it on this ground truth."""
    reliability = num_seeds * icc / (1 + (num_seeds - 1) * icc)
    return float(2 / np.pi * np.arcsin(np.sqrt(max(reliability, 0.0))))


def held_out(settings):
    """What the stand-alone top-1 was measured on."""
    if 'data' not in settings:
        return 'the 1,000 held-out digits'
    data = settings['data']
    digits = data['num_val_per_class'] * NUM_CLASSES
    return (f'{data["val_copies"] * digits:,} held-out {settings["task"]} images (each of the '
            f'{digits:,} held-out digits on {data["val_copies"]} canvases)')


def space_note(settings):
    """How the table names a space other than the configs' own: its candidates."""
    if 'space' not in settings:
        return ''
    return f' of space {settings["space"]!r}: (radix, cardinality, width) ' + ', '.join(
        f'{i}: ({r}, {c}, {w})' for i, (r, c, w) in enumerate(settings['candidates']))


def table_path(results_path, suffix):
    """Where the table and plots made from a scores file go: beside it, named after its version
    (``supernet_scores_v3.json``: ``ranking_v3.md``, ``ranking_v3.json``, ``ranking_v3_<method>.png``)."""
    folder, name = osp.split(osp.splitext(results_path)[0])
    version = name[len('supernet_scores_'):] if name.startswith('supernet_scores_') else name
    return osp.join(folder, f'ranking_{version}{suffix}')


def where(path):
    """A results file's path as the table names it: from benchmarks/ranking/."""
    return osp.relpath(path, osp.dirname(RESULTS))


def write_table(rows, truth, columns, seeds, standalone, standalone_path, results, subnets):
    settings = standalone['settings']
    lines = ['# Ranking benchmark: supernet scores vs stand-alone accuracy', '',
             f'{len(subnets)} subnets of the scaled-down space ({len(subnets[0])} layers x 4 candidates'
             f'{space_note(settings)}), drawn with seed {settings["subnet_seed"]}, each trained stand-alone for '
             f'{settings["epochs"]} epochs (`{settings["config"]}`) under seeds {seeds}; '
             f'ground truth = mean top-1 over those seeds on {held_out(settings)}: {truth.mean():.2f} % on '
             f'average, {truth.min():.2f}-{truth.max():.2f} % across subnets, seed-to-seed std '
             f'{np.std(columns, axis=0).mean() if len(columns) > 1 else float("nan"):.2f} points per subnet; '
             f'share of a run\'s variance due to the architecture (intra-class correlation): '
             f'{intra_class_correlation(columns):.2f}; so even a perfect score would be expected to reach only '
             f'tau {attainable_tau(intra_class_correlation(columns), len(columns)):.2f} against this ground truth '
             '(`supernets.attainable_tau`).', '',
             'Kendall tau and Spearman rho: mean over supernet seeds [95 % bootstrap interval over the subnets]; '
             f'top-{TOP_K} overlap: share of the {TOP_K} best stand-alone subnets among the {TOP_K} best scored.', '',
             'Seed-to-seed tau: Kendall tau between the rankings of two seeds of the same method (its '
             'reproducibility).', '',
             'Spread: the standard deviation of the subnets\' scores (mean over seeds) over the mean standard '
             'deviation of a subnet\'s score between seeds; below 1, the scores tell subnets apart by less than a '
             'seed moves them.', '',
             'Tau with MACs: Kendall tau of the scores against the subnets\' MACs (1: the score only counts MACs); '
             'beyond MACs: Kendall\'s partial tau of scores and ground truth with MACs held fixed (what the score '
             'ranks that counting MACs does not; mean over seeds).', '',
             '| method | supernet seeds | Kendall tau | tau per seed | Spearman rho | top-5 overlap | '
             'seed-to-seed tau | spread | tau with MACs | tau beyond MACs |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for method, row in rows.items():
        again = '' if row['seed_to_seed_tau'] is None else f'{row["seed_to_seed_tau"]:.3f}'
        spread = '' if row.get('subnet_to_seed_spread') is None else f'{row["subnet_to_seed_spread"]:.2f}'
        with_macs, beyond = (f'{row[key]:.3f}' if key in row else '' for key in ('tau_with_macs',
                                                                                  'partial_tau_given_macs'))
        lines.append(f'| {method} | {row["seeds"] or "-"} | {fmt(row["kendall_tau"])} | '
                     f'{", ".join(f"{t:.3f}" for t in row["kendall_tau"]["per_seed"])} | {fmt(row["spearman_rho"])} | '
                     f'{row[f"top{TOP_K}_overlap"]:.2f} | {again} | {spread} | {with_macs} | {beyond} |')
    pinas, spos = rows.get('Pi-NAS'), rows.get('SPOS')
    if pinas and spos:
        tau, margin = pinas['kendall_tau']['mean'], pinas['kendall_tau']['mean'] - spos['kendall_tau']['mean']
        lines += ['', f'Target: Pi-NAS tau (label-free) >= SPOS tau and >= 0.40: '
                  f'{"met" if margin >= 0 and tau >= 0.4 else "not met"} ({tau:.3f}, {margin:+.3f} over SPOS).']
    lines += ['', f'Made by `{"`, `".join(standalone["commands"])}` (ground truth, {standalone["settings"]["epochs"]} '
              f'epochs) and `{"`, `".join(results.content["commands"])}`; stored in {where(standalone_path)} and '
              f'{where(results.path)}. Table written {now()}.', '']
    table = '\n'.join(lines)
    with open(table_path(results.path, '.md'), 'w') as f:
        f.write(table)
    with open(table_path(results.path, '.json'), 'w') as f:
        json.dump(dict(rows=rows, ground_truth=dict(zip(subnets, truth.tolist())), seeds=seeds), f, indent=1)
    print(table)


def main():
    args = parse_args()
    args.work_dir = args.work_dir or default_work_dir(args)
    # read in the main thread (see scoring_dataloaders)
    args.schedule = {method: schedule_options(spec, args.epochs) + batch_options(spec, args.batch)
                     for method, spec in METHODS.items()}
    subnets = sample_subnets(args.num_subnets, args.subnet_seed)
    os.makedirs(args.work_dir, exist_ok=True)
    subnets_file = osp.join(args.work_dir, 'subnets.json')
    with open(subnets_file, 'w') as f:
        json.dump(subnets, f)
    # each record holds its method's spec, so a method added later joins the same file and a changed one is redone
    settings = dict(num_subnets=args.num_subnets, subnet_seed=args.subnet_seed, subnets=subnets)
    settings.update(space_settings(args))
    results = ResultsFile(args.results, settings)
    changes = dict(epochs=args.epochs, batch=args.batch)
    specs = {method: dict(spec, **{k: v for k, v in changes.items() if v}) for method, spec in METHODS.items()}
    todo = [(method, seed) for method in args.methods
            for seed in (args.ablation_seeds if METHODS[method].get('ablation') else args.seeds)
            if not results.find(method=method, seed=seed, spec=specs[method])]
    with ThreadPoolExecutor(args.jobs) as pool:  # a job waits on its tools/train.py process
        # every supernet before any scoring, so that a supernet two methods share is never trained twice at once
        supernets = dict.fromkeys((METHODS[method].get('reuse', method), seed) for method, seed in todo)
        probes = [(method, seed) for method, seed in supernets if 'on' in METHODS[method]]
        # the supernets a linear probe trains on, before any probe
        first = dict.fromkeys([s for s in supernets if s not in probes]
                              + [(METHODS[method]['on'], seed) for method, seed in probes])
        for phase in (first, probes):
            list(pool.map(lambda supernet: supernet_checkpoint(*supernet, args), phase))
        data = {config: scoring_dataloaders(config) for config in {METHODS[method]['search'] for method, _ in todo}}
        scorings = {pool.submit(score_subnets, method, seed, subnets_file, args, data[METHODS[method]['search']]):
                    (method, seed) for method, seed in todo}
        for scoring in as_completed(scorings):  # each stored as it comes
            method, seed = scorings[scoring]
            results.add(dict(method=method, seed=seed, spec=specs[method], scores=scoring.result()))
    truth, columns, seeds, standalone = load_truth(args.standalone, subnets, settings)  # the scores do not need it
    costs = subnet_costs(subnets, args.space)
    macs = [cost['flops'] for cost in costs]
    rows = {}
    for method in METHODS:
        records = sorted((r for r in results.records if r['method'] == method and r['spec'] == specs[method]),
                         key=lambda r: r['seed'])
        if records:
            rows[method] = dict(compare([[r['scores'][s] for s in subnets] for r in records], truth, args, macs),
                                seeds=[r['seed'] for r in records])
            plot_rank_correlation([np.mean([r['scores'][s] for r in records]) for s in subnets], truth,
                                  table_path(args.results, f'_{slug(method)}.png'),
                                  predicted_label=f'{method} supernet score (mean over seeds)',
                                  true_label='stand-alone top-1 (%)', title=method, top_k=TOP_K)
    for name, key in (('MACs (no training)', 'flops'), ('parameters (no training)', 'params')):
        rows[name] = dict(compare([[cost[key] for cost in costs]], truth, args, macs if key != 'flops' else None),
                          seeds=[])
    if len(columns) > 1:  # how well one stand-alone run ranks like another: the ceiling no score can beat
        rows['stand-alone, another seed (noise ceiling)'] = dict(compare(columns[1:], columns[0], args, macs),
                                                                 seeds=seeds[1:])
    if len(columns) >= 3:  # how well a mean over seeds ranks like the others': does averaging seeds make it reproduce?
        half = len(columns) // 2
        rows[f'stand-alone, mean of seeds {seeds[half:]} vs of {seeds[:half]}'] = dict(
            compare([np.mean(columns[half:], axis=0)], np.mean(columns[:half], axis=0), args, macs),
            seeds=seeds[half:])
    write_table(rows, truth, columns, seeds, standalone, args.standalone, results, subnets)


if __name__ == '__main__':
    main()
