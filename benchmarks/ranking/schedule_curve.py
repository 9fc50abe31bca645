# Copyright (c) pinas_mm contributors. All rights reserved.
"""Does the label-free supernet rank subnets once it trains long enough? Kendall tau against training length.

For each schedule length in ``--epochs`` this runs the ranking benchmark (``supernets.py --epochs E``: every supernet
trained for E epochs with its cosine schedule stretched to match, then scored as its search scores) and its check of
what the supernets learned (``embeddings.py``), each into files of their own (``supernet_scores_<version>_e<E>.json``,
``ranking_<version>_e<E>.*``, ``embeddings_<version>_e<E>.*``), then gathers the points into
``results/schedule_curve_<version>.{md,json}`` and a plot of tau against epochs, one line per method with every seed
shown. Every step is stored as it finishes and skipped when found, and a killed supernet training resumes from its
last checkpoint, so the same command continues a run that was cut short.

Methods: Pi-NAS scored label-free (the contrastive score, the pre-registered primary score), by kNN and by a linear
probe (the official search's score), and SPOS (supervised) at the same lengths; per point the learning monitor's
figures (residual BN scale, the cosine of one image's backbone features through two paths, kNN top-1) for both.

Run (CPU, the ground truth of ``standalone.py``'s ``standalone_v4.json``):
``python benchmarks/ranking/schedule_curve.py --epochs 10 30 --jobs 2 --threads 1``; on one GPU,
``benchmarks/ranking/gpu_schedule_curve.sh`` runs the long points. ``--table-only`` redraws from stored files.
"""
import argparse
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import numpy as np

from common import REPO, RESULTS, now  # benchmarks/ranking/ is on sys.path

HERE = osp.dirname(osp.abspath(__file__))
METHODS = ['Pi-NAS', 'Pi-NAS, kNN score', 'Pi-NAS, linear-probe score', 'SPOS']
PRIMARY = 'Pi-NAS'  # the pre-registered primary row: the label-free contrastive score
# the learning figures of a point, from embeddings.py's records: key, column title, format
FIGURES = (('residual_bn_scale', 'residual BN scale', '.3f'),
           ('backbone_cos_between_paths', 'cos, two paths (backbone)', '.3f'),
           ('knn_top1', 'kNN top-1 %', '.1f'))
# the supernet whose learning figures a method's row shows
TRAINED = {'Pi-NAS': 'Pi-NAS', 'Pi-NAS, kNN score': 'Pi-NAS', 'Pi-NAS, linear-probe score': 'Pi-NAS', 'SPOS': 'SPOS'}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, nargs='+', default=[10, 30, 100], help='schedule lengths')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--methods', nargs='+', default=METHODS, choices=METHODS)
    parser.add_argument('--version', default='v4', help='names the results files')
    parser.add_argument('--space', default='widths')
    parser.add_argument('--task', default='cluttered')
    parser.add_argument('--standalone', default=osp.join(RESULTS, 'standalone_v4.json'), help='the ground truth')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs'), help='the runs go to '
                        '<work-dir>/ranking_<version>_e<E>')
    parser.add_argument('--jobs', type=int, default=2, help="supernets.py's --jobs")
    parser.add_argument('--threads', type=int, default=1, help="supernets.py's --threads")
    parser.add_argument('--batch', type=int, help="supernets.py's --batch (images a step; e.g. to fill a GPU)")
    parser.add_argument('--results-dir', default=RESULTS, help='where the points, table and plot are stored')
    parser.add_argument('--table-only', action='store_true', help='gather the stored points, run nothing')
    return parser.parse_args()


def point_files(results_dir, version, epochs):
    """The stored files of one point: scores, ranking table, learning figures."""
    stem = f'{version}_e{epochs}'
    return dict(scores=osp.join(results_dir, f'supernet_scores_{stem}.json'),
                ranking=osp.join(results_dir, f'ranking_{stem}.json'),
                embeddings=osp.join(results_dir, f'embeddings_{stem}'))


def run_point(args, epochs):
    """supernets.py then embeddings.py for ``epochs``, in subprocesses (each stores its results as it goes)."""
    files = point_files(args.results_dir, args.version, epochs)
    work_dir = osp.join(args.work_dir, f'ranking_{args.version}_e{epochs}')
    space = ['--space', args.space, '--task', args.task]
    for command in ([osp.join(HERE, 'supernets.py'), *space, '--epochs', str(epochs), '--standalone', args.standalone,
                     '--results', files['scores'], '--work-dir', work_dir, '--jobs', str(args.jobs), '--threads',
                     str(args.threads), '--seeds', *map(str, args.seeds), '--methods', *args.methods,
                     *(['--batch', str(args.batch)] if args.batch else [])],
                    [osp.join(HERE, 'embeddings.py'), *space, '--work-dir', work_dir, '--out', files['embeddings']]):
        print(f'schedule curve, {epochs} epochs: {" ".join(command)}', flush=True)
        subprocess.run([sys.executable, *command], cwd=REPO, check=True)


def stored_epochs(results_dir, version):
    """The schedule lengths of ``version`` with a stored ranking table, whichever machine ran them."""
    found = glob.glob(osp.join(results_dir, f'ranking_{version}_e*.json'))
    return sorted(int(re.search(r'_e(\d+)\.json$', path).group(1)) for path in found)


def gather(results_dir, version, methods):
    """The stored points: per schedule length and method, tau (mean and per seed) and the learning figures
    (mean over the seeds of the supernet the method scores with)."""
    points = []
    for epochs in stored_epochs(results_dir, version):
        files = point_files(results_dir, version, epochs)
        with open(files['ranking']) as f:
            rows = json.load(f)['rows']
        with open(files['scores']) as f:
            batches = {r['method']: r['spec'].get('batch') for r in json.load(f)['records']}
        records = []
        if osp.exists(files['embeddings'] + '.json'):
            with open(files['embeddings'] + '.json') as f:
                records = json.load(f)['records']
        for method in methods:
            if method not in rows:
                continue
            tau = rows[method]['kendall_tau']
            point = dict(epochs=epochs, method=method, batch=batches.get(method), seeds=rows[method]['seeds'],
                         tau=tau['mean'], tau_per_seed=tau['per_seed'], tau_ci95=tau['ci95'],
                         tau_beyond_macs=rows[method].get('partial_tau_given_macs'))
            measured = [r for r in records if r['method'] == TRAINED[method] and r['seed'] in point['seeds']]
            for key, _, _ in FIGURES:
                values = [r[key] for r in measured if key in r]
                point[key] = float(np.mean(values)) if values else None
            points.append(point)
        for name in ('stand-alone, another seed (noise ceiling)', 'MACs (no training)'):
            if name in rows:
                points.append(dict(epochs=epochs, method=name, tau=rows[name]['kendall_tau']['mean'],
                                   tau_beyond_macs=rows[name].get('partial_tau_given_macs')))
    return points


def plot(points, methods, out_file):
    """Tau against epochs: a line through each method's mean over seeds, every seed as a dot, the noise ceiling and
    what MACs alone reach."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for method in methods:
        mine = sorted((p for p in points if p['method'] == method), key=lambda p: p['epochs'])
        if not mine:
            continue
        line, = ax.plot([p['epochs'] for p in mine], [p['tau'] for p in mine], marker='o', label=method)
        for p in mine:
            ax.scatter([p['epochs']] * len(p['tau_per_seed']), p['tau_per_seed'], color=line.get_color(), s=12,
                       alpha=0.5)
    for name, style, label in (('stand-alone', '--', 'noise ceiling (stand-alone, another seed)'),
                               ('MACs', ':', 'MACs (no training)')):
        reference = [p['tau'] for p in points if p['method'].startswith(name)]
        if reference:
            ax.axhline(reference[0], color='gray', linestyle=style, label=label)
    ax.set_xscale('log')
    epochs = sorted({p['epochs'] for p in points})
    ax.set_xticks(epochs, [str(e) for e in epochs])
    ax.minorticks_off()
    ax.set_xlabel('supernet training epochs (cosine schedule over each length)')
    ax.set_ylabel('Kendall tau vs stand-alone top-1')
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)


def write_table(points, args):
    lines = ['# Schedule curve: ranking quality against supernet training length', '',
             f'The ranking benchmark ({args.space!r} space, {args.task} digits, 30 subnets against '
             f'`{osp.relpath(args.standalone, HERE)}`) with every supernet trained for each length, its cosine '
             'schedule over that length; tau: mean over the supernet seeds (each seed in brackets). Learning figures: '
             'of the supernet the row scores with, mean over its seeds (`embeddings.py`): residual BN scale (mean '
             '|gamma| of the candidates\' last BN), cosine of one image\'s pooled backbone features through two '
             'paths (1: the paths compute one function), kNN top-1 of a path\'s backbone features. Beyond MACs: '
             'Kendall\'s partial tau with MACs held fixed, what a score ranks that counting MACs does not (mean over '
             'seeds).', '',
             'Batch: images a step where not the config\'s own (`supernets.py --batch`, the per-image learning rate '
             'kept).', '',
             '| epochs | method | batch | Kendall tau | per seed | beyond MACs | '
             + ' | '.join(t for _, t, _ in FIGURES) + ' |',
             '|---|---|---|---|---|---|' + '---|' * len(FIGURES)]
    for p in sorted(points, key=lambda p: (p['epochs'], p['method'] not in args.methods, p['method'])):
        per_seed = ', '.join(f'{t:.3f}' for t in p.get('tau_per_seed', []))
        beyond = '' if p.get('tau_beyond_macs') is None else f'{p["tau_beyond_macs"]:.3f}'
        figures = ' | '.join('' if p.get(key) is None else format(p[key], spec) for key, _, spec in FIGURES)
        lines.append(f'| {p["epochs"]} | {p["method"]} | {p.get("batch") or ""} | {p["tau"]:.3f} | {per_seed} | '
                     f'{beyond} | {figures} |')
    longest = max((p['epochs'] for p in points if p['method'] == PRIMARY), default=None)
    if longest is not None:
        primary = next(p for p in points if p['method'] == PRIMARY and p['epochs'] == longest)
        spos = next((p for p in points if p['method'] == 'SPOS' and p['epochs'] == longest), None)
        met = primary['tau'] >= 0.40 and spos is not None and primary['tau'] >= spos['tau']
        lines += ['', f'Target at the longest schedule reached ({longest} epochs): Pi-NAS label-free tau >= SPOS tau '
                  f'and >= 0.40: {"met" if met else "not met"} ({primary["tau"]:.3f}'
                  + (f' vs SPOS {spos["tau"]:.3f}' if spos else ', SPOS not run') + ').']
    lines += ['', f'Plot: `schedule_curve_{args.version}.png`. Points from the files `supernet_scores_{args.version}_e*'
              f'.json`, `ranking_{args.version}_e*.json`, `embeddings_{args.version}_e*.json`; table written {now()}.',
              '']
    return '\n'.join(lines)


def main():
    args = parse_args()
    if not args.table_only:
        for epochs in args.epochs:
            run_point(args, epochs)
    points = gather(args.results_dir, args.version, args.methods)
    if not points:
        raise SystemExit(f'no stored point of version {args.version}: run it without --table-only')
    out = osp.join(args.results_dir, f'schedule_curve_{args.version}')
    plot(points, args.methods, out + '.png')
    table = write_table(points, args)
    with open(out + '.md', 'w') as f:
        f.write(table)
    with open(out + '.json', 'w') as f:
        json.dump(dict(points=points, command=' '.join(sys.argv), written=now()), f, indent=1)
    print(table)


if __name__ == '__main__':
    main()
