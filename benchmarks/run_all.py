# Copyright (c) pinas_mm contributors. All rights reserved.
"""Every performance benchmark in one command, then one summary of their headline ratios.

Runs ``supernet_overhead.py`` (about 3 minutes on 2 CPU cores), ``pinas_step.py`` (about 4.5) and
``search_candidate_cost.py`` (about 3.5), about 11 minutes in all, one after the other in subprocesses of this
Python; each writes ``<name>.{json,md}`` into the results folder (``benchmarks/results/`` unless ``--results-dir``).
Then every results file of the folder is read into ``summary.md`` there (printed too): per benchmark and setting, the
ratio its target is set on, the cross-checks and whether the target is met, then per results file its date, machine
and load, and the command that made it. A benchmark that fails is reported (name, exit code) and the others still
run; the exit status is then 1.

``--device``, ``--amp`` (for the benchmarks that train) and ``--peak-tflops`` are passed on; GPU figures go to
``results/cuda/``. ``--quick`` runs each with its smallest arguments (a few steps, one subnet, one batch of search
images), to check that the command works, not for figures; its results go to a temporary folder unless
``--results-dir`` says where, never into ``benchmarks/results/``. The ranking benchmark (``ranking/``) trains
models for an hour: run it on its own.

Run: ``python benchmarks/run_all.py [--threads 2] [--only NAME ...] [--quick] [--device {cpu,cuda}] [--amp
[{fp16,bf16}]] [--peak-tflops T] [--results-dir DIR]``.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import tempfile

import device_figures as dev  # benchmarks/ is on sys.path
from supernet_overhead import RESULTS, machine_line

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


# (headline ratio, {cross-check: ratio}) of one setting of a benchmark's results file
def supernet_overhead(setting):
    time = setting['time']
    return time['ratio_of_medians'], {'median pair': time['median_pair_ratio'], 'minima': time['ratio_of_minima']}


def pinas_step(setting):
    pinas, pinned = setting['time']['per_model']['pinas'], setting['time']['per_model']['pinas-pinned']
    return pinas['ratio_of_medians'], {'median round': pinas['median_round_ratio'], 'minima': pinas['ratio_of_minima'],
                                       'both paths pinned to MoCo\'s': pinned['ratio_of_medians']}


def search_candidate_cost(setting):
    parts = {f'{part} / its floor': ratio for part, ratio in setting['part_ratios'].items()}
    return setting['median_pair_ratio'], {'minima': setting['median_ratio_of_minima'], **parts}


BENCHMARKS = {  # the headline ratio, its target, the figures, and the script's smallest arguments (for --quick)
    'supernet_overhead': dict(ratio='supernet / fixed subnet, step time', target=1.05, figures=supernet_overhead,
                              quick=['--steps', '2'], amp=True),
    'pinas_step': dict(ratio='PiNAS / symmetric MoCo-v2, step time', target=1.05, figures=pinas_step,
                       quick=['--steps', '2', '--data-steps', '1'], amp=True),  # its spread of MoCo's times needs two
    'search_candidate_cost': dict(ratio='search candidate / plain forwards, time', target=1.2,
                                  figures=search_candidate_cost, amp=False,
                                  quick=['--reps', '1', '--subnets', '1', '--max-batches', '1', '--warmup', '0']),
}
DEVICE_COLUMNS = ('benchmark', 'setting', 'model', 'images/s', 'achieved TFLOP/s', 'share of peak', 'peak device MB',
                  'kernels % of wall', 'host in torch ops %')
COLUMNS = ('benchmark', 'setting', 'headline ratio', 'value', 'cross-checks', 'target', 'met')


def summarise(results_dir, failed):
    """summary.md of the results files in ``results_dir`` (``failed``: {name: exit code} of this run), printed."""
    lines = ['# Performance benchmarks', '', '| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    device_lines = ['', '| ' + ' | '.join(DEVICE_COLUMNS) + ' |', '|' + '---|' * len(DEVICE_COLUMNS)]
    files = []
    for name, benchmark in BENCHMARKS.items():
        path = osp.join(results_dir, f'{name}.json')
        if name in failed:  # an older results file in the folder is not this run's
            files.append(f'- `{name}`: failed (exit code {failed[name]}), no results.')
            continue
        if not osp.exists(path):  # not run here
            continue
        with open(path) as f:
            results = json.load(f)
        for setting, values in results['settings'].items():
            ratio, checks = benchmark['figures'](values)
            lines.append(f"| {name} | {setting} | {benchmark['ratio']} | {ratio:.3f} | "
                         f"{', '.join(f'{label} {value:.3f}' for label, value in checks.items())} | "
                         f"<= {benchmark['target']} | {'yes' if ratio <= benchmark['target'] else 'no'} |")
            for model, f in values.get('device_figures', {}).items():  # older results files have none
                b = f['breakdown'] or {}
                device_lines.append(
                    f"| {name} | {setting} | {model} | {f['images_per_s']:.1f} | {f['achieved_tflops']:.3f} | "
                    f"{'unknown' if f['share_of_peak'] is None else format(f['share_of_peak'], '.2%')} | "
                    f"{dev.cell(f['peak_device_mb'], '.0f')} | "
                    f"{dev.cell(b.get('kernel_share'), '.0f', 100)} | {dev.cell(b.get('host_op_share'), '.0f', 100)} |")
        device = results.get('device', dict(device='cpu', amp=None))
        command = f"made by `{results['command']}`" if 'command' in results else 'command not recorded'
        files.append(f"- `{name}.md`, {results['date']}, {command}: {machine_line(results)} Device: "
                     f"{device['device']}, amp {device['amp'] or 'off'}.")
    if len(device_lines) > 3:
        lines += device_lines + ['', 'Device figures: images/s, the share of the peak arithmetic rate (unknown: no '
                                 'peak for the device, give --peak-tflops) and where the time goes; n/a: GPU only. '
                                 'What an image is and the FLOPs assumed: in each results file.']
    summary = '\n'.join(lines + ['', 'Value: the ratio of the median times (the search: the median of the per-pair '
                                 'ratios). Cross-checks and the method: in each results file.', ''] + files) + '\n'
    os.makedirs(results_dir, exist_ok=True)
    with open(osp.join(results_dir, 'summary.md'), 'w') as f:
        f.write(summary)
    print(summary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads of every benchmark (default 2)')
    parser.add_argument('--only', nargs='+', choices=list(BENCHMARKS), default=list(BENCHMARKS), metavar='NAME',
                        help=f"the benchmarks to run (default: all: {' '.join(BENCHMARKS)})")
    parser.add_argument('--quick', action='store_true', help='smallest arguments: checks the command, not figures')
    dev.add_arguments(parser)
    parser.add_argument('--results-dir', help=f'default: {RESULTS} (on cuda its subfolder cuda), or a temporary '
                        'folder with --quick')
    args = parser.parse_args()
    dev.check_device(parser, args.device)
    stored_dir = dev.default_results_dir(RESULTS, args.device)
    results_dir = osp.abspath(args.results_dir or (tempfile.mkdtemp(prefix='pinas_mm_benchmarks_') if args.quick
                                                   else stored_dir))
    stored = osp.realpath(results_dir) == osp.realpath(stored_dir)
    if args.quick and stored:
        parser.error(f'--quick would replace the stored figures in {stored_dir}: choose another --results-dir')
    failed = {}
    for name in args.only:
        quick = BENCHMARKS[name]['quick'] if args.quick else []
        device = ['--device', args.device, *(['--peak-tflops', str(args.peak_tflops)] if args.peak_tflops else []),
                  *(['--amp', args.amp] if args.amp and BENCHMARKS[name]['amp'] else [])]
        command = [f'benchmarks/{name}.py', '--threads', str(args.threads), *quick, *device,
                   *([] if stored else ['--results-dir', results_dir])]
        print(f'$ python {shlex.join(command)}', flush=True)
        returncode = subprocess.run([sys.executable, *command], cwd=REPO).returncode
        if returncode:
            failed[name] = returncode
            print(f'{name} failed (exit code {returncode})', file=sys.stderr, flush=True)
    summarise(results_dir, failed)
    if failed:
        sys.exit('failed: ' + ', '.join(f'{name} (exit code {code})' for name, code in failed.items()))


if __name__ == '__main__':
    main()
