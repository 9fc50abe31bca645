# Copyright (c) pinas_mm contributors. All rights reserved.
"""Fault injection, as databases test durability: training and search killed with ``kill -9`` at seeded random
moments, resumed with ``--resume`` each time, must end exactly as an uninterrupted run, with every file on disk whole.

Training: ``tools/train.py configs/pinas/supernet_mnist5k.py`` with the config's own data loader (2 persistent
workers, seeded per-image augmentations), on fewer digits, epochs, a smaller batch and queue. Each attempt is killed
(with its process group: main process and workers) after a random delay, drawn with ``--seed`` from the
uninterrupted run's wall time, or (every third kill, from the first) after it logs that it saves a checkpoint, as
the checkpoint's temporary file appears or 0-50 ms later; then it is started again with ``--resume``. After every
kill and at the end: every ``epoch_*.pth`` loads with ``torch.load``, ``last_checkpoint`` names one that does, and
(at the end) no temporary file is left. The final checkpoint must equal the uninterrupted one's in every tensor
(model state, optimizer state) and in its iteration. Search: ``configs/pinas/search_mnist5k.py`` (a few small
generations on an untrained supernet) killed the same way (while saving: after it logs a generation's end, which it
then saves), resumed, must write the same generations and best subnet.

Run: ``python benchmarks/fault_injection.py [--kills 8] [--search-kills 2] [--epochs 4] [--images 256] [--seed 0]
[--generations 3] [--data-root data/mnist5k] [--results-dir DIR]``; prints each kill (when, during what, what was on
disk) and whether each resumed run matched, and writes ``benchmarks/results/fault_injection.{json,md}``. Exit status
1 if a run did not match, failed to resume, or left a file incomplete or behind. ``tests/test_fault_injection.py`` runs
the same code with two kills of the training and one of the search.
"""
import argparse
import glob
import json
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS='1')
# the learning monitor on a few images: it still draws augmentations and paths between epochs
SMALL_MONITOR = ['custom_hooks.2.num_images=32', 'custom_hooks.2.num_bank_images=64', 'custom_hooks.2.path_pairs=1']


def training_options(data_root, epochs, images):
    """supernet_mnist5k.py on ``images`` digits for ``epochs`` epochs, its data loader's workers as shipped."""
    return [f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.T_max={epochs}', f'param_scheduler.0.end={epochs}',
            f'train_dataloader.dataset.dataset.data_root={data_root}',
            f'train_dataloader.dataset.dataset.indices={images}', 'train_dataloader.batch_size=32',
            'model.queue_len=256', *SMALL_MONITOR]


def train_command(config, work_dir, options=(), resume=False):
    return [sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir), *(['--resume'] if resume else []),
            *(['--cfg-options', *options] if options else [])]


def run_to_end(command):
    """Run a command to its end; its wall time."""
    start = time.time()
    result = subprocess.run(command, cwd=REPO, env=ONE_THREAD, capture_output=True, text=True)
    if result.returncode:
        errors = [line for line in result.stderr.splitlines() if 'pkg_resources' not in line]
        raise RuntimeError(f'{" ".join(command)} failed:\n' + '\n'.join(errors[-30:]))
    return time.time() - start


def temporary_files(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '.*.tmp')))


def kill_at(command, work_dir, after, delay):
    """Start ``command`` and kill -9 its process group ``delay`` s after it logs a line containing ``after`` (None:
    after its start), or with ``delay='file'`` as soon as a temporary file appears in ``work_dir`` after that line
    (a checkpoint being written). What happened: 'killed', when, after what, the checkpoints and temporary files then
    on disk; or 'finished' if it ended first."""
    process = subprocess.Popen(command, cwd=REPO, env=ONE_THREAD, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    logged = threading.Event()
    if after is None:
        logged.set()
    threading.Thread(target=watch_log, args=(process.stdout, after, logged), daemon=True).start()
    start = time.time()
    while process.poll() is None and not logged.wait(0.005):
        pass
    since = time.time()
    if delay == 'file':
        while process.poll() is None and not temporary_files(work_dir) and time.time() - since < 10:
            time.sleep(0.001)
    else:
        while process.poll() is None and time.time() - since < delay:
            time.sleep(0.005)
    if process.poll() is not None:
        return dict(outcome='finished', returncode=process.returncode)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return dict(outcome='killed', after_s=round(time.time() - start, 2), after=after, delay=delay,
                temporary_files=temporary_files(work_dir),
                checkpoints=sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))))


def watch_log(stream, text, logged):
    """Read a process's output to its end (a full pipe would stop it), setting ``logged`` once ``text`` appears."""
    for line in stream:
        if text is not None and text in line:
            logged.set()


def disk_problems(work_dir, finished):
    """Files that are not whole: a checkpoint that does not load, ``last_checkpoint`` naming a missing or broken one,
    and once ``finished`` a temporary file left behind."""
    problems = []
    for path in sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth'))):
        try:
            torch.load(path, map_location='cpu', weights_only=False)
        except Exception as error:  # noqa: BLE001 (any failure to load is the finding)
            problems.append(f'{osp.basename(path)} does not load: {error!r}')
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.exists(last):
        target = open(last).read().strip()
        if not osp.isfile(target):
            problems.append(f'last_checkpoint names {target!r}, which does not exist')
    if finished:
        problems += [f'{name} left behind' for name in temporary_files(work_dir)]
    return problems


def checkpoint_differences(expected, resumed):
    """Keys of two checkpoint files that differ: every model and optimizer tensor, and the iteration."""
    a, b = (torch.load(path, map_location='cpu', weights_only=False) for path in (expected, resumed))
    differ = [f'state_dict.{k}' for k, v in a['state_dict'].items()
              if k not in b['state_dict'] or not torch.equal(v, b['state_dict'][k])]
    for index, state in a['optimizer']['state'].items():
        differ += [f'optimizer.{index}.{k}' for k, v in state.items()
                   if not torch.equal(v, b['optimizer']['state'].get(index, {}).get(k, torch.tensor(float('nan'))))]
    if a['meta']['iter'] != b['meta']['iter']:
        differ.append('meta.iter')
    return differ


def kill_plan(seed, kills, wall, saving='Saving checkpoint'):
    """``kills`` seeded (after, delay) kill moments (:func:`kill_at`): every third one (the first, the fourth, ...)
    after the run logs ``saving``, in turn as the checkpoint's temporary file appears (while it is written) and 0-50
    ms later (while it is gathered); the others at 0.2-0.9 times ``wall`` (the uninterrupted run's wall time) over
    ``kills``, so that they still come before a resumed run, which continues from its last checkpoint, ends (the
    earliest ones hit its start-up)."""
    rng = random.Random(seed)
    return [((saving, 'file') if index % 6 == 0 else (saving, rng.uniform(0, 0.05))) if index % 3 == 0 else
            (None, rng.uniform(0.2, 0.9) * wall / kills) for index in range(kills)]


def kill_and_resume(make_command, work_dir, plan, final_file):
    """Run ``make_command(resume)`` killed at each (after, delay) of ``plan``, resumed every time, then to its end.
    The kills, each with the disk problems found after it, and the problems at the end."""
    kills = []
    for index, (after, delay) in enumerate(plan):
        kill = kill_at(make_command(resume=index > 0), work_dir, after, delay)
        if kill['outcome'] == 'finished':
            break
        kill['problems'] = disk_problems(work_dir, finished=False)
        kills.append(kill)
    problems = []
    if not osp.exists(final_file):
        try:
            run_to_end(make_command(resume=bool(kills)))
        except RuntimeError as error:
            problems.append(f'the resumed run failed: {str(error).splitlines()[-1]}')
    return kills, [p for k in kills for p in k['problems']] + problems + disk_problems(work_dir, finished=True)


def training_trial(work_root, data_root, epochs, images, kills, seed=0, plan=None):
    """Uninterrupted training, then the same killed ``kills`` times at seeded moments (or at ``plan(wall)``); its
    figures: the kills, whether the final state matched, the files found incomplete or left behind."""
    config = 'configs/pinas/supernet_mnist5k.py'
    options = training_options(data_root, epochs, images)
    reference = osp.join(work_root, 'uninterrupted')
    wall = run_to_end(train_command(config, reference, options))
    work_dir = osp.join(work_root, 'killed')
    final = osp.join(work_dir, f'epoch_{epochs}.pth')
    start = time.time()
    killed, problems = kill_and_resume(lambda resume: train_command(config, work_dir, options, resume), work_dir,
                                       plan(wall) if plan else kill_plan(seed, kills, wall), final)
    differ = checkpoint_differences(osp.join(reference, osp.basename(final)), final) if osp.exists(final) else \
        [f'no {osp.basename(final)}']
    return dict(kind='training', uninterrupted_s=round(wall, 1), killed_and_resumed_s=round(time.time() - start, 1),
                kills=killed, differing=differ, matched=not differ, problems=problems)


def search_config(path, data_root, checkpoint, generations):
    settings = dict(calibrate_sample_num=32, num_score_images=32, max_epochs=generations, num_candidates=6, top_k=2,
                    num_mutation=2, num_crossover=2)
    data = f"dict(dataset=dict(data_root='{data_root}'), batch_size=16)"
    with open(path, 'w') as f:
        f.write(f"_base_ = ['{REPO}/configs/pinas/search_mnist5k.py']\nload_from = '{checkpoint}'\n"
                f'train_cfg = dict(dataloader={data}, calibrate_dataloader={data}, **{settings!r})\n')
    return path


def search_outputs(work_dir, generations):
    names = [f'search_generation_{g}.json' for g in range(1, generations + 1)] + ['best_fix_subnet.yaml']
    return {name: open(osp.join(work_dir, name)).read() if osp.exists(osp.join(work_dir, name)) else None
            for name in names}


def search_trial(work_root, data_root, checkpoint, generations, kills, seed=0, plan=None):
    """An uninterrupted search, then the same killed ``kills`` times at seeded moments (or at ``plan(wall)``);
    whether it wrote the same generations and best subnet, and the files left behind."""
    config = search_config(osp.join(work_root, 'search.py'), data_root, checkpoint, generations)
    reference = osp.join(work_root, 'search_uninterrupted')
    wall = run_to_end(train_command(config, reference))
    work_dir = osp.join(work_root, 'search_killed')
    start = time.time()
    killed, problems = kill_and_resume(lambda resume: train_command(config, work_dir, (), resume), work_dir,
                                       plan(wall) if plan else kill_plan(seed, kills, wall, saving="parents' scores"),
                                       osp.join(work_dir, 'best_fix_subnet.yaml'))
    same = search_outputs(work_dir, generations) == search_outputs(reference, generations)
    return dict(kind='search', uninterrupted_s=round(wall, 1), killed_and_resumed_s=round(time.time() - start, 1),
                kills=killed, differing=[] if same else ['generations or best subnet'], matched=same,
                problems=problems)


def untrained_supernet(path):
    """A checkpoint of supernet_mnist5k.py's model, freshly initialised (the search's mechanics need no training)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import pinas_mm  # noqa: F401
    from pinas_mm.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs/pinas/supernet_mnist5k.py'))
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta={}), path)
    return path


def table(results):
    lines = [f"Fault injection ({results['date']}, {results['machine']['cpu']}, {results['machine']['cpu_count']} "
             f"cores, load average {results['machine']['load_average_at_start']} at start), `{results['command']}`:",
             '', '| run | uninterrupted s | killed+resumed s | kills: after s (saving) | final state equal | '
             'files incomplete or left behind |', '|---|---|---|---|---|---|']
    for trial in results['trials']:
        kills = ', '.join(f"{k['after_s']}{' (saving)' if k['after'] else ''}" for k in trial['kills']) or 'none'
        state = 'yes' if trial['matched'] else 'NO: ' + ', '.join(trial['differing'][:3])
        lines.append(f"| {trial['kind']} | {trial['uninterrupted_s']} | {trial['killed_and_resumed_s']} | {kills} | "
                     f"{state} | {'; '.join(trial['problems']) or 'none'} |")
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--kills', type=int, default=8, help='kills of the training run')
    parser.add_argument('--search-kills', type=int, default=2, help='kills of the search (0: no search)')
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--images', type=int, default=256, help='training digits')
    parser.add_argument('--generations', type=int, default=3, help='search generations')
    parser.add_argument('--seed', type=int, default=0, help='seed of the kill moments')
    parser.add_argument('--data-root', default='data/mnist5k')
    parser.add_argument('--results-dir', help='where to write fault_injection.{json,md} (default benchmarks/results)')
    return parser.parse_args()


def main():
    args = parse_args()
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from supernet_overhead import RESULTS, machine_info, save_results
    data_root = osp.abspath(args.data_root)
    if not osp.exists(osp.join(data_root, 'dataset.json')):
        subprocess.run([sys.executable, 'tools/dataset_converters/prepare_mnist5k.py', data_root], cwd=REPO, check=True)
    results = dict(date=time.strftime('%Y-%m-%d %H:%M'), machine=machine_info(1), settings=vars(args), trials=[])
    with tempfile.TemporaryDirectory() as root:
        results['trials'].append(training_trial(root, data_root, args.epochs, args.images, args.kills, args.seed))
        print(table(dict(results, command='')), flush=True)
        if args.search_kills:
            checkpoint = untrained_supernet(osp.join(root, 'supernet.pth'))
            results['trials'].append(search_trial(root, data_root, checkpoint, args.generations, args.search_kills,
                                                  args.seed))
    save_results('fault_injection', results, table, args.results_dir or RESULTS)
    sys.exit(0 if all(trial['matched'] and not trial['problems'] for trial in results['trials']) else 1)


if __name__ == '__main__':
    main()
