# Copyright (c) pinas_mm contributors. All rights reserved.
"""Training steps/s of the CPU twin (``configs/pinas/supernet_mnist5k.py``) as it was shipped vs as it is now.

Each run is a fresh process that trains the config with mmengine's Runner as ``tools/train.py`` does (seed 0, the
config's own data loader and workers on the mnist_5k digits, ``ZeroGradAsNoneHook``, SGD, the EMA teacher) for
``--iters`` iterations and records when each iteration ended and its losses. Variants:

- ``before``: the twin as shipped before this benchmark: 2 persistent data-loader workers next to torch's default
  of one compute thread per core, and the code paths of then, kept in this file (``old_*``): the EMA teacher update
  as one ``lerp_`` (and one ``to``) per parameter in a Python loop, ``drop_zero_gradients`` converting every
  gradient norm with ``float()`` before stacking them, the learning monitor's BN layers computing running
  statistics that its measurement then restores, and SplitBN taking the whole batch's running statistics in a pass
  of ``var_mean`` of its own;
- ``now``: the config and the code as they are (one compute thread unless ``OMP_NUM_THREADS`` says otherwise, the
  teacher update as one ``torch._foreach_lerp_``, the monitor's BN layers without running statistics, SplitBN's
  running statistics combined from the statistics its slices' normalisation computes anyway);
- candidates (``--candidates``): one change at a time, from the settings of then or from now, to say what each
  brings; 'other draws' marks worker counts that changed which random augmentations the images got while each
  worker drew from its own seeded generators (the stored results; the configs now seed each image's augmentations,
  SeededAugmentSampler, so they draw alike), 'other math' a change of the update itself: their losses differ.

Runs alternate (the order rotating every round) so that changing machine load hits all alike. Steps/s of a run:
the iterations after ``--warmup`` over their wall time, data-loader waits included (the workers share the cores with
the compute threads). Per variant: the median over rounds, the ratio of medians to ``before``, the median of the
per-round ratios and the ratio of the maxima. Loss check: the losses of the first ``--check-iters`` iterations of
every run are compared with ``before``'s first run (same seed: same images, augmentations, paths and shuffles); a
variant not marked 'other' that differs by more than ``--rtol`` (relative) fails it (exit status 1).

Where a step's time goes (``parts``, a fresh process per thread count, no data workers): one batch through the data
pipeline in one process, and within ``train_step`` the student and teacher forwards, the teacher update, backward,
the SGD step and ``ZeroGradAsNoneHook``'s pre-hook, with the old and new code and with SGD ``foreach=True``
alternated over the same batch; then torch.profiler's top operators of one step (new code).

The learning monitor (``LearningMonitorHook``) is left out of the timed runs, whose few iterations it would dominate;
its cost is measured on its own (``--monitor-rounds``, a fresh process each: loading its images, once a run, then one
measurement, as after every epoch) for ``before``, ``now`` and (among the candidates) ``now, old code``, and added to
62 steps for the time of an epoch; their figures are compared. Operator count: the operator events (torch.profiler)
of one training step of the FULL-size supernet (``configs/pinas/supernet.py``'s model, batch 2 of 224x224, fp32, CPU,
SGD with ``ZeroGradAsNoneHook``'s pre-hook) with the old code paths and the current ones.

Run: ``python benchmarks/twin_speed.py [--rounds 3] [--iters 25] [--warmup 5] [--candidates [NAME ...]]
[--candidate-rounds 1] [--monitor-rounds 2] [--parts-steps 4] [--data-root data/mnist5k] [--no-full-size-ops]``
(``--candidates`` alone: all of them). Prints a table and writes ``benchmarks/results/twin_speed.{json,md}``
(``--results-dir DIR``: in DIR; ``--results-name``: another name); prepares the digits in ``--data-root`` if
missing. ``--nice N`` runs the children at that niceness; ``--realtime P`` at real-time priority P (root): the
figures of a machine nobody else uses, while the others' programs wait (keep such runs short). Every finished
measurement is kept (``--state``) until the results are written: run the same command again after an interruption
and it continues.
"""
import argparse
import contextlib
import datetime
import functools
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'pinas', 'supernet_mnist5k.py')
FULL_CONFIG = osp.join(REPO, 'configs', 'pinas', 'supernet.py')
STEPS_PER_EPOCH = 62  # 4,000 digits, 64 a step

# The twin's data-loader and thread settings before this benchmark (threads: torch's default, one per core) and as
# the config has them now (None: the config's own). 'code': 'old' runs the update paths of then (below); 'options':
# --cfg-options of the variant, or 'no-zero-grad-hook' (without ZeroGradAsNoneHook).
BEFORE = dict(workers=2, persistent=True, threads=os.cpu_count(), code='old', options=[])
NOW = dict(workers=None, persistent=None, threads=None, code='new', options=[])
VARIANTS = {'before': BEFORE, 'now': NOW}
CANDIDATES = {
    'before, new code': dict(BEFORE, code='new'),
    'now, old code': dict(NOW, code='old'),
    'now + SGD foreach': dict(NOW, options=['optim_wrapper.optimizer.foreach=True']),
    'now, no ZeroGradAsNoneHook (other math)': dict(NOW, options=['no-zero-grad-hook']),
    'now, workers not persistent': dict(NOW, persistent=False),
    'now, prefetch 4': dict(NOW, options=['train_dataloader.prefetch_factor=4']),
    'workers 1, threads 1 (other draws)': dict(NOW, workers=1),
    'workers 1, threads 2 (other draws)': dict(NOW, workers=1, threads=2),
    'workers 0, threads 1 (other draws)': dict(NOW, workers=0, persistent=False),
    'workers 0, threads 2 (other draws)': dict(NOW, workers=0, persistent=False, threads=2),
}
SPECS = {**VARIANTS, **CANDIDATES}
LOSS_KEYS = ('loss', 'loss_alpha_beta', 'loss_beta_alpha')


# ---------------------------------------------------------------------------------------------------------------
# The code paths before this benchmark (exact copies), swapped in by set_code('old')


def old_update_parameters(self, model, frozen=()):
    source = dict(model.named_parameters())
    if self.steps == 0:  # the official teacher starts as a copy of the student's parameters (MoCo's init)
        for name, averaged in self.avg_parameters.items():
            averaged.data.copy_(source[name].data.to(averaged.device))
    elif self.steps % self.interval == 0:
        for name, averaged in self.avg_parameters.items():
            if name not in frozen and averaged.dtype.is_floating_point:
                self.avg_func(averaged.data, source[name].data.to(averaged.device), self.steps)
    self.steps += 1


def old_drop_zero_gradients(optimizer, args=None, kwargs=None):
    import torch
    params = [p for group in optimizer.param_groups for p in group['params'] if p.grad is not None]
    if not params:
        return
    # one norm kernel per device and dtype and one host synchronisation, instead of one per parameter
    norms = torch._foreach_norm([p.grad for p in params])
    for param, is_zero in zip(params, torch.stack([n.float() for n in norms]).eq(0).tolist()):
        if is_zero:
            param.grad = None


def old_split_bn_forward(self, x):
    import torch
    import torch.nn.functional as F
    if not self.training or self.num_splits == 1:
        return torch.nn.BatchNorm2d.forward(self, x)
    batch, channels = x.shape[:2]
    if batch % self.num_splits:
        raise ValueError(f'SplitBN with num_splits={self.num_splits} got a batch of {batch} images, which it '
                         'cannot split into equal slices; make the batch size a multiple of num_splits')
    if self.track_running_stats:
        self.num_batches_tracked.add_(1)
        factor = 1. / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        with torch.no_grad():  # the whole batch's statistics, as nn.BatchNorm2d keeps them
            var, mean = torch.var_mean(x.float(), dim=(0, 2, 3), correction=1)
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
            self.running_var.lerp_(var.to(self.running_var.dtype), factor)
    slices = x.unflatten(0, (self.num_splits, -1)).transpose(0, 1).flatten(1, 2)
    repeat = (lambda t: None if t is None else t.repeat(self.num_splits))
    out = F.batch_norm(slices, None, None, repeat(self.weight), repeat(self.bias), True, 0., self.eps)
    return out.unflatten(1, (self.num_splits, channels)).transpose(0, 1).flatten(0, 1)


def old_measure(self, model):
    from pinas_mm.engine.hooks.learning_monitor_hook import learning_figures, preserved_random_state
    with preserved_random_state():
        return learning_figures(model, self.images, self.path_pairs, self.seed, self.labels, self.bank,
                                self.bank_labels)


@functools.lru_cache(None)
def _new_code():
    from pinas_mm.engine.hooks import LearningMonitorHook, zero_grad_as_none_hook
    from pinas_mm.models.utils import SampledPathEMA, SplitBatchNorm2d
    return (SampledPathEMA.update_parameters, zero_grad_as_none_hook.drop_zero_gradients, LearningMonitorHook.measure,
            SplitBatchNorm2d.forward)


def set_code(code):
    """Use the code paths of then (``'old'``) or the package's own (``'new'``). ``ZeroGradAsNoneHook`` looks its
    function up when it registers it: set the code before training starts."""
    from pinas_mm.engine.hooks import LearningMonitorHook, zero_grad_as_none_hook
    from pinas_mm.models.utils import SampledPathEMA, SplitBatchNorm2d
    update, drop, measure, split_bn = _new_code() if code == 'new' else (
        old_update_parameters, old_drop_zero_gradients, old_measure, old_split_bn_forward)
    SampledPathEMA.update_parameters = update
    zero_grad_as_none_hook.drop_zero_gradients = drop
    LearningMonitorHook.measure = measure
    SplitBatchNorm2d.forward = split_bn


# ---------------------------------------------------------------------------------------------------------------
# Child processes


def twin_config(spec, data_root, work_dir, monitor=False):
    """The twin's config with ``spec``'s settings (read after the config: they override its thread count)."""
    import torch
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    if spec['threads']:
        torch.set_num_threads(spec['threads'])
    options = {'train_dataloader.dataset.dataset.data_root': data_root, 'default_hooks.logger.interval': 1000,
               'default_hooks.checkpoint.interval': 1000, 'visualizer.vis_backends': [dict(type='LocalVisBackend')]}
    if spec['workers'] is not None:
        options['train_dataloader.num_workers'] = spec['workers']
    if spec['persistent'] is not None:
        options['train_dataloader.persistent_workers'] = spec['persistent']
    for option in spec['options']:
        if '=' in option:
            key, value = option.split('=', 1)
            options[key] = json.loads(value.lower())  # the literals of CANDIDATES: numbers, true/false
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    cfg.custom_hooks = [hook for hook in cfg.custom_hooks
                        if (monitor or hook['type'] != 'LearningMonitorHook')
                        and not (hook['type'] == 'ZeroGradAsNoneHook' and 'no-zero-grad-hook' in spec['options'])]
    return cfg


class _Stop(Exception):
    pass


def child_train(spec, data_root, iters):
    """Train ``iters`` iterations; per iteration the time it ended (from before_train) and its losses."""
    import torch
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    set_code(spec['code'])
    ends, losses = [], []

    class Recorder(Hook):
        priority = 'LOWEST'

        def before_train(self, runner):
            self.start = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            ends.append(time.perf_counter() - self.start)
            losses.append({key: float(outputs[key]) for key in LOSS_KEYS if key in outputs})
            if len(ends) == iters:
                raise _Stop

    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner.from_cfg(twin_config(spec, data_root, work_dir))
        runner.register_hook(Recorder())
        with contextlib.suppress(_Stop):
            runner.train()
        loader = runner.train_loop.dataloader
        settings = dict(workers=loader.num_workers, persistent=loader.persistent_workers,
                        prefetch_factor=loader.prefetch_factor, threads=torch.get_num_threads(),
                        sgd_foreach=runner.optim_wrapper.optimizer.defaults.get('foreach'),
                        zero_grad_hook=any(type(h).__name__ == 'ZeroGradAsNoneHook' for h in runner.hooks))
    return dict(ends_s=ends, losses=losses, settings=settings)


def child_monitor(spec, data_root):
    """The learning monitor's cost: loading its images (once a run), one measurement (every epoch); its figures."""
    import torch
    from mmengine.runner import Runner
    from pinas_mm.engine.hooks import LearningMonitorHook
    set_code(spec['code'])
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner.from_cfg(twin_config(spec, data_root, work_dir, monitor=True))
        hook = next(h for h in runner.hooks if isinstance(h, LearningMonitorHook))
        model = hook._model(runner)
        for name in ('dataloader', 'bank_dataloader'):  # as before_train: the training data's data_root
            loader = getattr(hook, name)
            setattr(hook, name, dict(loader, dataset=dict(loader['dataset'], data_root=data_root)))
        start = time.perf_counter()
        hook.load_images(model)
        loaded = time.perf_counter()
        figures = hook.measure(model)
        measured = time.perf_counter()
    return dict(load_s=loaded - start, measure_s=measured - loaded, figures=figures, threads=torch.get_num_threads())


def child_parts(spec, data_root, steps):
    """Where the time of a step goes, in one process: see the module's docstring (``parts``)."""
    import collections

    import torch
    from mmengine.runner import Runner
    from pinas_mm.engine.hooks import zero_grad_as_none_hook
    from pinas_mm.models.algorithms import PiNAS
    from pinas_mm.models.utils import SampledPathEMA, SplitBatchNorm2d
    times = collections.defaultdict(float)

    def timing(function, key):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            part = key(*args, **kwargs) if callable(key) else key
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[part] += time.perf_counter() - start
        return wrapper

    new_update, new_drop, _, new_split_bn = _new_code()
    codes = {code: (timing(update, 'teacher update (EMA)'), timing(drop, 'ZeroGradAsNoneHook pre-hook'), split_bn)
             for code, (update, drop, split_bn) in (
                 ('old', (old_update_parameters, old_drop_zero_gradients, old_split_bn_forward)),
                 ('new', (new_update, new_drop, new_split_bn)))}

    def use(code):
        (SampledPathEMA.update_parameters, zero_grad_as_none_hook.drop_zero_gradients,
         SplitBatchNorm2d.forward) = codes[code]

    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner.from_cfg(twin_config(dict(spec, workers=0, persistent=False), data_root, work_dir))
        loader = Runner.build_dataloader(runner._train_dataloader, seed=runner.seed)
        batches = iter(loader)
        data_s = []
        for _ in range(3):
            start = time.perf_counter()
            batch = next(batches)
            data_s.append(time.perf_counter() - start)
        model = runner.model
        wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
        optimizer = wrapper.optimizer
        optimizer.register_step_pre_hook(lambda *args: zero_grad_as_none_hook.drop_zero_gradients(*args))
        PiNAS.embed = timing(PiNAS.embed, lambda self, images, path, teacher=False:
                             'teacher forwards' if teacher else 'student forwards')
        wrapper.backward = timing(wrapper.backward, 'backward')
        optimizer.step = timing(optimizer.step, 'SGD step (with its pre-hook)')
        model.train()
        configs = {'old code': ('old', False), 'new code': ('new', False), 'new code + SGD foreach': ('new', True)}
        results = {name: collections.defaultdict(list) for name in configs}
        for index in range(2 + steps):  # two warm-up rounds: the teacher's first update is a copy
            for name in rotate(list(configs), index):
                code, foreach = configs[name]
                use(code)
                for group in optimizer.param_groups:
                    group['foreach'] = foreach
                times.clear()
                start = time.perf_counter()
                model.train_step(batch, wrapper)
                total = time.perf_counter() - start
                if index >= 2:
                    for part, seconds in times.items():
                        results[name][part].append(seconds)
                    results[name]['train_step'].append(total)
        set_code('new')  # without the timing wrappers
        for group in optimizer.param_groups:
            group['foreach'] = False
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
            model.train_step(batch, wrapper)
        averages = sorted(profile.key_averages(), key=lambda event: -event.self_cpu_time_total)
        total_us = sum(event.self_cpu_time_total for event in averages)
        top = [(event.key, event.self_cpu_time_total / 1e3, event.count) for event in averages[:10]]
    medians = {name: {part: statistics.median(values) * 1e3 for part, values in parts.items()}
               for name, parts in results.items()}
    for parts in medians.values():
        parts['other (preprocessing, losses, queue, paths)'] = parts['train_step'] - sum(
            ms for part, ms in parts.items() if part not in ('train_step', 'ZeroGradAsNoneHook pre-hook'))
    return dict(threads=torch.get_num_threads(), data_batch_ms=statistics.median(data_s) * 1e3, steps=steps,
                parts_ms=medians, profiled_step=dict(events=len(profile.events()), self_cpu_ms=total_us / 1e3,
                                                     top_ops=top))


def child_full_size_ops(code):
    """Operator events (torch.profiler) of one training step of supernet.py's model, batch 2 of 224x224, CPU."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmpretrain.structures import DataSample
    from pinas_mm.engine.hooks import zero_grad_as_none_hook
    from pinas_mm.registry import MODELS
    set_code(code)
    set_random_seed(0)  # the same weights and paths (the path generator's seed comes from numpy) in every process
    init_default_scope('mmrazor')
    model = MODELS.build(Config.fromfile(FULL_CONFIG).model)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.04, momentum=0.9, weight_decay=1e-4)
    optimizer.register_step_pre_hook(lambda *args: zero_grad_as_none_hook.drop_zero_gradients(*args))
    wrapper = OptimWrapper(optimizer)
    generator = torch.Generator().manual_seed(0)
    batch = dict(inputs=[torch.randint(0, 256, (2, 3, 224, 224), dtype=torch.uint8, generator=generator)
                         for _ in range(4)], data_samples=[DataSample() for _ in range(2)])
    for _ in range(2):  # warm-up: the teacher's first update (a copy), the optimizer's momentum buffers
        model.train_step(batch, wrapper)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        model.train_step(batch, wrapper)
    counts = {}
    for event in profile.events():
        counts[event.name] = counts.get(event.name, 0) + 1
    return dict(events=sum(counts.values()), aten_events=sum(n for name, n in counts.items()
                                                             if name.startswith('aten::')),
                counts=dict(sorted(counts.items(), key=lambda item: -item[1])))


def run_child(args, *child_args, threads=None):
    """This script in a fresh process (``--child ...``); its last stdout line is the JSON result. ``threads``: the
    child's OMP_NUM_THREADS (None: unset, the config chooses)."""
    env = {key: value for key, value in os.environ.items() if key != 'OMP_NUM_THREADS'}
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    command = [sys.executable, osp.abspath(__file__), '--child', *child_args]
    if args.nice:
        command = ['nice', '-n', str(args.nice), *command]
    if args.realtime:
        command = ['chrt', '--rr', str(args.realtime), *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)
    if result.returncode:
        raise RuntimeError(f'child {child_args} failed:\n{result.stderr[-4000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------------------
# Pure logic (tests/test_twin_speed.py)


def steps_per_s(ends, warmup):
    """Iterations per second after the first ``warmup`` (``ends``: when each iteration ended, from the start)."""
    if warmup:
        timed = ends[warmup - 1:]  # from the end of the last warm-up iteration
        return (len(timed) - 1) / (timed[-1] - timed[0])
    return len(ends) / ends[-1]


def loss_difference(losses, reference, check_iters):
    """Largest relative difference of the first ``check_iters`` iterations' losses (inf if fewer iterations)."""
    if len(losses) < check_iters or len(reference) < check_iters:
        return float('inf')
    return max((abs(ours[key] - value) / max(abs(value), 1e-12)
                for ours, theirs in zip(losses[:check_iters], reference[:check_iters])
                for key, value in theirs.items()), default=0.)


def rotate(names, index):
    """``names`` shifted by ``index`` (ABC, BCA, CAB, ...)."""
    shift = index % len(names)
    return names[shift:] + names[:shift]


def summarise(rates, base='before'):
    """Per variant: its steps/s of each round, their median, and its ratios to ``base`` (rounds paired by index:
    a variant run in fewer rounds is compared with base's runs of those rounds)."""
    summary = {}
    for name, own in rates.items():
        paired = rates[base][:len(own)]
        summary[name] = dict(steps_per_s=own, median_steps_per_s=statistics.median(own),
                             ratio_of_medians=statistics.median(own) / statistics.median(paired),
                             median_round_ratio=statistics.median(r / b for r, b in zip(own, paired)),
                             ratio_of_maxima=max(own) / max(paired))
    return summary


def figures_difference(figures, reference):
    """Largest absolute difference between two sets of learning-monitor figures."""
    return max(abs(figures[key] - value) for key, value in reference.items())


# ---------------------------------------------------------------------------------------------------------------
# Parent


class State:
    """Every finished measurement, kept in a JSON file as it comes: a run that was stopped continues where it stopped
    (same arguments) instead of starting over; removed once the results are written."""

    def __init__(self, path, settings):
        self.path, self.settings, self.done = path, settings, {}
        if osp.exists(path):
            with open(path) as f:
                stored = json.load(f)
            if stored['settings'] == settings:
                self.done = stored['done']
                print(f'continuing from {path}: {len(self.done)} measurements done', flush=True)

    def get(self, key, measure):
        if key not in self.done:
            self.done[key] = measure()
            with open(self.path + '.tmp', 'w') as f:
                json.dump(dict(settings=self.settings, done=self.done), f)
            os.replace(self.path + '.tmp', self.path)
        return self.done[key]

    def remove(self):
        if osp.exists(self.path):
            os.remove(self.path)


def plural(threads):
    return f"{threads} thread{'s' if threads != 1 else ''}"


def table(results):
    from supernet_overhead import machine_line
    lines = [f"# CPU twin speed: configs/pinas/supernet_mnist5k.py before vs now, {results['date']}", '',
             f"{machine_line(results)} Per variant {results['rounds']} runs of {results['iters']} iterations "
             f"(candidates: {results['candidate_rounds']}), alternated; steps/s over the iterations after the first "
             f"{results['warmup']}.{' Children at nice ' + str(results['nice']) + '.' if results['nice'] else ''}"
             + (f" Children at real-time priority (SCHED_RR {results['realtime']}): the machine as if idle, other "
                "programs stopped (the compute threads then keep a core until they wait, which favours two threads "
                "next to two workers)." if results.get('realtime') else ''), '',
             *([results['note'], ''] if results.get('note') else []),
             '| variant | workers | persistent | threads | code | steps/s (median) | ratio of medians to before | '
             'median round ratio | ratio of maxima | load during runs | max rel. loss diff, first '
             f"{results['check_iters']} iters | epoch s (62 steps + monitor) |", '|' + '---|' * 12]
    monitor = {name: statistics.median(m['measure_s'] for m in runs) for name, runs in results['monitor'].items()}
    for name, r in results['variants'].items():
        s, spec = r['settings'], results['specs'][name]
        epoch = STEPS_PER_EPOCH / r['median_steps_per_s']
        loads = [run['load_average'][0] for run in results['runs'][name]]
        cells = [name, s['workers'], s['persistent'] if s['workers'] else '-', s['threads'],
                 spec['code'] + (', SGD foreach' if s['sgd_foreach'] else '') + ('' if s['zero_grad_hook']
                                                                                else ', no ZeroGrad hook'),
                 f"{r['median_steps_per_s']:.3f}", f"{r['ratio_of_medians']:.2f}", f"{r['median_round_ratio']:.2f}",
                 f"{r['ratio_of_maxima']:.2f}", f'{min(loads):.1f}-{max(loads):.1f}', f"{r['max_rel_loss_diff']:.1e}",
                 f'{epoch + monitor[name]:.0f} ({epoch:.0f} + {monitor[name]:.0f})' if name in monitor
                 else f'{epoch:.0f} + monitor']
        lines.append('| ' + ' | '.join(str(c) for c in cells) + ' |')
    lines += ['', f"First {results['check_iters']} losses of `before` (run 1): "
              + ', '.join(f"{loss['loss']!r}" for loss in results['reference_losses']) + '; loss check '
              f"{'passed' if results['loss_check_passed'] else 'FAILED'} (relative tolerance {results['rtol']:g}; "
              "variants marked 'other' are expected to differ). Load: the 1-minute load average after each run."]
    if results['monitor']:
        reference = results['monitor']['before'][0]['figures']
        lines += ['', 'Learning monitor (`LearningMonitorHook`: loading its images once a run, then one measurement '
                  'per epoch): ' + '; '.join(
                      f"{name}: load {statistics.median(m['load_s'] for m in runs):.1f} s, measure "
                      f"{statistics.median(m['measure_s'] for m in runs):.1f} s ({plural(runs[0]['threads'])}), "
                      f"figures within {max(figures_difference(m['figures'], reference) for m in runs):.1e} of "
                      "before's" for name, runs in results['monitor'].items()) + '.']
    for name, parts in results.get('parts', {}).items():
        columns = list(parts['parts_ms'])
        rows = sorted({row for p in parts['parts_ms'].values() for row in p}, key=lambda row: (row == 'train_step',
                                                                                              row))
        lines += ['', f"Where a step's time goes, {name} ({plural(parts['threads'])}, one process, no data workers, "
                  f"median of {parts['steps']} steps each, ms); one batch through the data pipeline in one process: "
                  f"{parts['data_batch_ms']:.0f} ms", '', '| part | ' + ' | '.join(columns) + ' |',
                  '|' + '---|' * (len(columns) + 1)]
        lines += ['| ' + ' | '.join([row] + [f"{parts['parts_ms'][c].get(row, 0):.1f}" for c in columns]) + ' |'
                  for row in rows]
        step = parts['profiled_step']
        lines += ['', f"Top operators of one step (new code, torch.profiler, {step['events']} events, "
                  f"{step['self_cpu_ms']:.0f} ms inside operators): " + ', '.join(
                      f'{op} {ms:.0f} ms ({calls})' for op, ms, calls in step['top_ops']) + '.']
    if results.get('full_size_ops'):
        ops = results['full_size_ops']
        lines += ['', "Operator events (torch.profiler) of one FULL-size training step (supernet.py's model, batch 2 "
                  f"of 224x224, fp32, CPU): before {ops['old']['events']} ({ops['old']['aten_events']} aten::), now "
                  f"{ops['new']['events']} ({ops['new']['aten_events']} aten::); aten::to "
                  f"{ops['old']['counts'].get('aten::to', 0)} -> {ops['new']['counts'].get('aten::to', 0)}, "
                  f"aten::lerp_ {ops['old']['counts'].get('aten::lerp_', 0)} -> "
                  f"{ops['new']['counts'].get('aten::lerp_', 0)} (on CPU a multi-tensor operation runs one operator "
                  'per tensor inside it; on a GPU it launches a few kernels for all of them).']
    return '\n'.join(lines + ['', results['method']]) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=3, help='runs of before and now, alternated (default 3)')
    parser.add_argument('--iters', type=int, default=25, help='iterations per run (default 25)')
    parser.add_argument('--warmup', type=int, default=5, help='first iterations not timed (default 5)')
    parser.add_argument('--check-iters', type=int, default=5, help='iterations whose losses are compared (default 5)')
    parser.add_argument('--rtol', type=float, default=1e-5, help='relative tolerance of the loss check (1e-5)')
    parser.add_argument('--candidates', nargs='*', choices=list(CANDIDATES), metavar='NAME',
                        help='also run these variants (alone: all): ' + ', '.join(map(repr, CANDIDATES)))
    parser.add_argument('--candidate-rounds', type=int, default=1, help='runs of each candidate (default 1)')
    parser.add_argument('--monitor-rounds', type=int, default=2,
                        help="measurements of the learning monitor's cost per variant (0: none; default 2)")
    parser.add_argument('--parts-steps', type=int, default=4,
                        help="steps per code path of the 'where the time goes' part (0: skip; default 4)")
    parser.add_argument('--no-full-size-ops', action='store_true', help='skip the full-size operator count')
    parser.add_argument('--data-root', default=osp.join(REPO, 'data', 'mnist5k'))
    parser.add_argument('--nice', type=int, default=0, help='niceness of the children (default 0)')
    parser.add_argument('--realtime', type=int, metavar='PRIORITY',
                        help='run the children at this real-time priority (SCHED_RR, root only): the machine to '
                        'themselves, as if it were idle; others get 5 %% of it meanwhile, keep such runs short')
    parser.add_argument('--results-name', default='twin_speed',
                        help='results file name, without .json/.md (default twin_speed)')
    parser.add_argument('--results-dir', help='where to write the results (default: benchmarks/results)')
    parser.add_argument('--state', help='where finished measurements are kept until the results are written, so that '
                        'a stopped run continues (default: <tmp>/<results name>.state.json)')
    parser.add_argument('--child', nargs='+', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == 'train':
            result = child_train(SPECS[rest[0]], rest[1], int(rest[2]))
        elif kind == 'monitor':
            result = child_monitor(SPECS[rest[0]], rest[1])
        elif kind == 'parts':
            result = child_parts(SPECS[rest[0]], rest[1], int(rest[2]))
        else:
            result = child_full_size_ops(rest[0])
        print(json.dumps(result))
        return

    import torch
    from supernet_overhead import RESULTS, machine_info, save_results  # benchmarks/ is on sys.path
    if not osp.isdir(osp.join(args.data_root, 'train')):
        from pinas_mm.datasets import prepare_mnist5k_classification
        prepare_mnist5k_classification(args.data_root)
    candidates = list(CANDIDATES) if args.candidates == [] else args.candidates or []
    names = ['before', 'now', *candidates]
    results = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                   machine=machine_info(torch.get_num_threads()), rounds=args.rounds, iters=args.iters,
                   warmup=args.warmup, candidate_rounds=min(args.candidate_rounds, args.rounds),
                   check_iters=args.check_iters, rtol=args.rtol, nice=args.nice, realtime=args.realtime,
                   specs={name: SPECS[name] for name in names}, method='\n\n'.join(__doc__.split('\n\n')[1:6]))
    state = State(args.state or osp.join(tempfile.gettempdir(), f'{args.results_name}.state.json'),
                  dict(vars(args), candidates=names, state=None))
    runs = {name: [] for name in names}
    for index in range(args.rounds):
        for name in rotate(names if index < args.candidate_rounds else names[:2], index):
            print(f'round {index + 1}/{args.rounds}: {name} ...', flush=True)
            run = state.get(f'train {index} {name}', lambda: dict(
                run_child(args, 'train', name, args.data_root, str(args.iters), threads=SPECS[name]['threads']),
                load_average=[round(load, 2) for load in os.getloadavg()]))
            runs[name].append(run)
            print(f"  {steps_per_s(run['ends_s'], args.warmup):.3f} steps/s, first losses "
                  f"{[loss['loss'] for loss in run['losses'][:args.check_iters]]}", flush=True)
    monitor = {name: [] for name in ('before', 'now', 'now, old code') if name in names}  # the thread counts, the code
    for index in range(args.monitor_rounds):
        for name in rotate(list(monitor), index):
            print(f'monitor {index + 1}/{args.monitor_rounds}: {name} ...', flush=True)
            monitor[name].append(state.get(f'monitor {index} {name}', lambda: run_child(
                args, 'monitor', name, args.data_root, threads=SPECS[name]['threads'])))
    results['monitor'] = {name: measured for name, measured in monitor.items() if measured}
    if args.parts_steps:
        results['parts'] = {}
        for name in ('before', 'now'):  # their thread counts
            print(f'where the time goes, {name} ...', flush=True)
            results['parts'][name] = state.get(f'parts {name}', lambda: run_child(
                args, 'parts', name, args.data_root, str(args.parts_steps), threads=SPECS[name]['threads']))
    if not args.no_full_size_ops:
        print('full-size operator count ...', flush=True)
        results['full_size_ops'] = {code: state.get(f'ops {code}', lambda: run_child(args, 'ops', code, threads=1))
                                    for code in ('old', 'new')}
    results['runs'] = runs
    results['variants'] = summarise({name: [steps_per_s(run['ends_s'], args.warmup) for run in runs[name]]
                                     for name in names})
    reference = runs['before'][0]['losses']
    results['reference_losses'] = reference[:args.check_iters]
    passed = True
    for name in names:
        results['variants'][name]['settings'] = runs[name][0]['settings']
        worst = max(loss_difference(run['losses'], reference, args.check_iters) for run in runs[name])
        results['variants'][name]['max_rel_loss_diff'] = worst
        passed &= worst <= args.rtol or '(other' in name
    results['loss_check_passed'] = passed
    save_results(args.results_name, results, table, args.results_dir or RESULTS)
    state.remove()
    if not passed:
        sys.exit(1)


if __name__ == '__main__':
    main()
