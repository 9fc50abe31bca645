# Copyright (c) pinas_mm contributors. All rights reserved.
"""What the supernet's indirection costs: one path of the ``PiNASResNeSt`` supernet vs the same subnet built fixed.

For each setting (a scaled-down space and the paper's full-size space), in one run:

- time: forward + backward (training mode, loss = mean of the last stage's output) of (a) the supernet with every
  ``OneShotMutableOP``'s ``current_choice`` set to the subnet's candidate and (b) ``PiNASResNeSt(arch=subnet)``
  carrying the supernet's weights of that path (``subnet_state_dict``). The two are interleaved after warm-up, in
  alternating order (AB BA AB ...), so that drifting machine load and order effects hit both alike. Reported: the
  median per model and their ratio, with the median of the per-pair ratios and the ratio of the minima as
  load-robust cross-checks; and the largest output difference of the two on one batch (eval mode, same weights).
- peak memory: each model is built in a fresh subprocess (no allocator state left by the other model); the kernel's
  resident-set high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs``) is read after two training steps
  and reported with the resident set after building. The supernet holds every candidate's weights, so its resident
  set is larger by design; the step's own increase (peak - after build: activations, gradients, workspace) is what
  the indirection could change. torch's CPU allocations are not seen by ``tracemalloc``, hence RSS.

Device figures (``device_figures.py``): images/s, FLOPs (3 x the subnet's forward) and their share of the device's
peak, peak device memory on cuda (``max_memory_allocated`` in the same subprocesses), and where two profiled steps of
each model spend their time. ``--device cuda`` synchronises around every timed step; ``--amp`` autocasts the forward.

Run: ``python benchmarks/supernet_overhead.py [--threads 2] [--steps N] [--device {cpu,cuda}] [--amp [{fp16,bf16}]]
[--batch N] [--peak-tflops T] [--results-dir DIR]`` (about 3 minutes on 2 CPU cores; on cuda the full-size batch is
32); prints a table and writes ``benchmarks/results/supernet_overhead.{json,md}`` (on cuda in ``results/cuda/``, or in
DIR).
"""
import argparse
import datetime
import gc
import json
import os
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

import device_figures as dev  # benchmarks/ is on sys.path
import pinas_mm  # noqa: F401  (checks the installed stack, applies compat fixes, registers modules)
from pinas_mm.models.backbones.pinas_resnest import PiNASResNeSt
from pinas_mm.structures import parse_subnet, subnet_state_dict

SETTINGS = {
    'scaled-down': dict(space=dict(stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16), subnet='31203',
                        batch=8, size=64, steps=100),
    'full-size': dict(space=dict(), subnet='3333113330011021', batch=2, cuda_batch=32, size=224,  # Pi-NAS-trans
                      steps=20),
}
RESULTS = osp.join(osp.dirname(osp.abspath(__file__)), 'results')  # the stored figures (--results-dir: elsewhere)


def build(setting, kind, device='cpu'):
    """The supernet with the subnet's path active, or the fixed subnet."""
    if kind == 'fixed':
        return PiNASResNeSt(arch=setting['subnet'], **setting['space']).to(device)
    supernet = PiNASResNeSt(**setting['space'])
    path = parse_subnet(setting['subnet'], supernet.layer_names, list(supernet.candidate_settings))
    for name, choice in zip(supernet.layer_names, path):
        supernet.get_submodule(name).current_choice = choice
    return supernet.to(device)


def step(model, inputs, device='cpu', amp=None):
    """What is timed: forward (autocast to ``amp``), loss, backward (the gradients are cleared beforehand, untimed)."""
    with dev.autocast(device, amp):
        loss = model(inputs)[-1].float().mean()
    loss.backward()


def forward_macs(model, size, device):
    """MACs of one image's forward, from torch's FLOP counter."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=device))
    return counter.get_total_flops() / 2


def time_pair(setting, steps, warmup=3, device='cpu', amp=None):
    torch.manual_seed(0)
    supernet = build(setting, 'supernet', device)
    fixed = build(setting, 'fixed', device)
    fixed.load_state_dict(subnet_state_dict(supernet.state_dict(), supernet.layer_names, fixed.subnet))
    inputs = torch.randn(setting['batch'], 3, setting['size'], setting['size'], device=device)
    supernet.eval()
    fixed.eval()
    with torch.no_grad():  # same weights, same path: same function
        max_diff = (supernet(inputs)[-1] - fixed(inputs)[-1]).abs().max().item()
    macs = forward_macs(fixed, setting['size'], device)
    supernet.train()
    fixed.train()
    times = {'supernet': [], 'fixed': []}
    for i in range(warmup + steps):
        for kind, model in (('supernet', supernet), ('fixed', fixed))[::1 if i % 2 == 0 else -1]:  # ABBA...
            model.zero_grad(set_to_none=True)
            elapsed, _ = dev.timed(lambda: step(model, inputs, device, amp), device)
            if i >= warmup:
                times[kind].append(elapsed)
    breakdown = {kind: dev.profile_step(lambda: step(model, inputs, device, amp), device)
                 for kind, model in (('supernet', supernet), ('fixed', fixed))}
    medians = {kind: statistics.median(t) for kind, t in times.items()}
    pair_ratios = [s / f for s, f in zip(times['supernet'], times['fixed'])]
    return dict(
        steps=steps, warmup=warmup, max_abs_output_diff=max_diff, forward_gmacs_per_image=macs / 1e9,
        breakdown=breakdown,
        params_m={'supernet': sum(p.numel() for p in supernet.parameters()) / 1e6,
                  'fixed': sum(p.numel() for p in fixed.parameters()) / 1e6},
        median_ms={kind: m * 1e3 for kind, m in medians.items()},
        min_ms={kind: min(t) * 1e3 for kind, t in times.items()},
        ratio_of_medians=medians['supernet'] / medians['fixed'],
        ratio_of_minima=min(times['supernet']) / min(times['fixed']),
        median_pair_ratio=statistics.median(pair_ratios))


def kib(field):
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':'))


def measure_memory(setting_name, kind, threads, device='cpu', amp=None):
    """In this (fresh) process: RSS (and on cuda allocated device memory) after building ``kind``, then their peaks
    over two training steps."""
    torch.set_num_threads(threads)
    setting = SETTINGS[setting_name]
    model = build(setting, kind, device)
    model.train()  # not chained: mmpretrain's ResNet.train returns None
    inputs = torch.randn(setting['batch'], 3, setting['size'], setting['size'], device=device)
    gc.collect()
    after_build, device_after_build = kib('VmRSS'), dev.allocated_mb(device)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset VmHWM to the current RSS (Linux >= 4.0)
    dev.reset_peak_memory(device)
    for _ in range(2):
        model.zero_grad(set_to_none=True)
        step(model, inputs, device, amp)
    dev.synchronize(device)
    peak, device_peak = kib('VmHWM'), dev.peak_memory_mb(device)
    return dict(rss_after_build_mb=after_build / 1024, peak_rss_mb=peak / 1024,
                step_increase_mb=(peak - after_build) / 1024, device_after_build_mb=device_after_build,
                peak_device_mb=device_peak)


def memory_in_subprocess(setting_name, kind, threads, device='cpu', amp=None):
    out = subprocess.run([sys.executable, __file__, '--memory-child', setting_name, kind, '--threads', str(threads),
                          '--device', device, *(['--amp', amp] if amp else [])],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine_info(threads):
    cpu = next((line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name')),
               platform.processor())
    return dict(cpu=cpu, cpu_count=os.cpu_count(), torch_threads=threads, torch=torch.__version__,
                python=platform.python_version(), platform=platform.platform(), load_average_at_start=load_average())


def load_average():
    return [round(load, 2) for load in os.getloadavg()]


COLUMNS = ('setting', 'subnet', 'batch x input', 'params M', 'fwd+bwd median ms', 'ratio of medians',
           'median pair ratio', 'ratio of minima', 'max output diff', 'step RSS increase MB', 'peak RSS MB')


def pair(values, fmt):
    return f"{values['supernet']:{fmt}} / {values['fixed']:{fmt}}"


def machine_line(results):
    """The machine, torch's threads and the load at start and end of a results file, in one sentence."""
    machine = results['machine']
    return (f"{machine['cpu']}, {machine['cpu_count']} CPUs, torch {machine['torch']} with {machine['torch_threads']} "
            f"threads; load average {machine['load_average_at_start']} at start, {results['load_average_at_end']} at "
            "end.")


def table_head(title, results, note, columns):
    """A results file's title, the machine and its load, ``note``, and the markdown table's header rows."""
    return [f"# {title}, {results['date']}", '', f'{machine_line(results)} {note}', '',
            '| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]


def markdown(results):
    """The results as a markdown table; 'a / b' cells are supernet / fixed."""
    lines = table_head('Supernet overhead', results, "Cells 'a / b': supernet / fixed subnet.", COLUMNS)
    for name, r in results['settings'].items():
        t, m = r['time'], r['memory']
        cells = [name, r['subnet'], f"{r['batch']} x {r['size']}x{r['size']}", pair(t['params_m'], '.2f'),
                 pair(t['median_ms'], '.1f'), f"{t['ratio_of_medians']:.3f}", f"{t['median_pair_ratio']:.3f}",
                 f"{t['ratio_of_minima']:.3f}", f"{t['max_abs_output_diff']:.1e}",
                 pair({k: v['step_increase_mb'] for k, v in m.items()}, '.0f'),
                 pair({k: v['peak_rss_mb'] for k, v in m.items()}, '.0f')]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += dev.device_table(results, [(name, kind, f) for name, r in results['settings'].items()
                                        for kind, f in r['device_figures'].items()])
    lines += ['', 'GFLOPs / image: 2 FLOPs a MAC x the forward MACs of the subnet x 3 (forward and backward, '
              'assumed 3x the forward). Breakdown: two profiled steps each (torch.profiler, which slows each operator '
              'a little); n/a: GPU only. Peak device MB: max_memory_allocated over two steps in a fresh process.']
    return '\n'.join(lines + ['', results['method']]) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    parser.add_argument('--steps', type=int, help='timed steps per model (default: 100 scaled-down, 20 full-size)')
    parser.add_argument('--settings', nargs='+', choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument('--batch', type=int, help='images a step, every setting (default: 8 scaled-down, full-size 2 '
                        'on cpu and 32 on cuda)')
    dev.add_arguments(parser)
    parser.add_argument('--results-dir', help=f'where to write the results (default: {RESULTS}, on cuda its '
                        'subfolder cuda)')
    parser.add_argument('--memory-child', nargs=2, metavar=('SETTING', 'KIND'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    dev.check_device(parser, args.device)
    for setting in SETTINGS.values():
        setting['batch'] = args.batch or (setting.get('cuda_batch', setting['batch']) if args.device == 'cuda'
                                          else setting['batch'])
    if args.memory_child:
        print(json.dumps(measure_memory(*args.memory_child, args.threads, args.device, args.amp)))
        return
    torch.set_num_threads(args.threads)
    machine = machine_info(args.threads)
    results = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), machine=machine,
                   device=dev.device_record(args.device, args.amp, dev.device_name(args.device, machine['cpu']),
                                            args.peak_tflops),
                   method='\n\n'.join(__doc__.split('\n\n')[1:4]), settings={})
    for name in args.settings:
        setting = SETTINGS[name]
        print(f'{name}: timing ...', flush=True)
        timing = time_pair(setting, args.steps or setting['steps'], device=args.device, amp=args.amp)
        print(f'{name}: memory (one subprocess per model) ...', flush=True)
        memory = {kind: memory_in_subprocess(name, kind, args.threads, args.device, args.amp)
                  for kind in ('supernet', 'fixed')}
        flops = 2 * timing['forward_gmacs_per_image'] * 1e9 * dev.TRAIN_FLOPS_PER_FORWARD
        figures = {kind: dev.figures(setting['batch'], timing['median_ms'][kind] / 1e3, flops, results['device'],
                                     memory[kind]['peak_device_mb'], timing['breakdown'][kind])
                   for kind in ('supernet', 'fixed')}
        results['settings'][name] = dict(subnet=setting['subnet'], batch=setting['batch'], size=setting['size'],
                                         space=setting['space'], time=timing, memory=memory, device_figures=figures)
    save_results('supernet_overhead', results, markdown, args.results_dir or dev.default_results_dir(RESULTS,
                                                                                                     args.device))


def save_results(name, results, make_table, results_dir=RESULTS):
    """Record the load at the end and the command, write <name>.json and <name>.md (``make_table(results)``, which
    may show that load) in ``results_dir``, and print the table."""
    results['load_average_at_end'] = load_average()
    script = osp.relpath(osp.abspath(sys.argv[0]), osp.dirname(osp.dirname(osp.abspath(__file__))))
    results['command'] = shlex.join(['python', script, *sys.argv[1:]])
    table = make_table(results)
    os.makedirs(results_dir, exist_ok=True)
    with open(osp.join(results_dir, f'{name}.json'), 'w') as f:
        json.dump(results, f, indent=2)
    with open(osp.join(results_dir, f'{name}.md'), 'w') as f:
        f.write(table)
    print(table)


if __name__ == '__main__':
    main()
