# Copyright (c) pinas_mm contributors. All rights reserved.
"""Time and peak memory of one PiNAS training step vs mmpretrain's MoCo-v2 made symmetric (the same compute).

Four models per setting, all with the same projector (``MoCoV2Neck``), head, queue, optimizer (SGD, momentum 0.9)
and batch of four uint8 views, each stepped with ``model.train_step`` (preprocessing, 2 student passes with
backward, 2 teacher passes, teacher EMA update, queue update, optimizer step):

- ``moco``: the baseline, a subclass of mmpretrain's ``MoCo`` on the fixed subnet SUBNET
  (``PiNASResNeSt(arch=SUBNET)``): q1 = student(v1), q3 = student(v3), k2 = teacher(v2), k4 = teacher(v4) with
  shuffle-BN, one teacher update per step, loss InfoNCE(q1, k2) + InfoNCE(q3, k4), the queue receives the mean of
  the two keys. SUBNET is chosen so that its compute matches the average path: among 4096 seeded random paths, the
  one with the most even candidate counts and, among those, the MACs closest to the expected MACs of a uniformly
  random path (which is the mean over candidates of the all-one-candidate subnets' MACs).
- ``pinas``: ``PiNAS`` as it trains (``cross_path=True``): two fresh paths per step that differ in every layer, so
  the backward, the optimizer and the teacher update touch about twice the layer parameters of one path.
- ``pinas-same-path``: ``PiNAS(cross_path=False)``: one fresh path per step for both branches, the parameter count
  per step of one path, as in MoCo.
- ``pinas-pinned``: ``PiNAS`` with both paths pinned to SUBNET (``sample_two_paths`` patched around its steps):
  exactly MoCo's compute on the supernet, so its ratio to ``moco`` is the algorithm's own overhead (path switching,
  the supernet's indirection, the set of unsampled parameters, the masked EMA).

'path MACs / SUBNET' is the mean backbone MACs of the paths a model ran in its timed steps over SUBNET's, for the
path-sampling models (random paths cost more or less than SUBNET).

- time: the models' steps are interleaved after warm-up, the order rotating every round (ABCD, BCDA, ...), so that
  drifting machine load hits all alike. Reported: the median per model, the ratio of medians to ``moco``, with the
  median of the per-round ratios and the ratio of the minima as load-robust cross-checks.
- memory: each model is built in a fresh subprocess; the resident-set high-water mark (``VmHWM``, reset after
  building) over four training steps, with the resident set after building. The supernet holds all four candidates
  of every layer, twice (student and EMA teacher), so its resident set is larger by design; 'step RSS increase'
  (peak - after build: activations, gradients, optimizer state, workspace) is the step's own memory. SGD keeps a
  momentum buffer for every parameter that has had a gradient: after four steps a path-sampling model has them for
  most candidates (about 15/16 with two paths a step), close to a long run's optimizer state.

- device figures (``device_figures.py``): per model images/s (an image: one sample of four views), its FLOPs
  (``step_flops_per_image``: 2 x backbone MACs x 8, a training pass assumed 3 forwards) and their share of the
  device's peak, peak device memory on cuda, and for ``pinas`` and ``moco`` where two profiled steps spend their time
  (torch operators on the host, Python, kernels, GPU idle). Data loading: ``pinas`` fed by a DataLoader of
  ``--data-workers`` processes running ``configs/pinas/supernet.py``'s four-view pipeline on JPEG files (crops at the
  setting's size): the time waiting for batches vs stepping, and the pipeline's images/s in one process.

Run: ``python benchmarks/pinas_step.py [--threads 2] [--steps N] [--settings scaled-down full-size] [--device
{cpu,cuda}] [--amp [{fp16,bf16}]] [--batch N] [--peak-tflops T]`` (about 5 minutes on 2 idle CPU cores); prints a
table and writes ``benchmarks/results/pinas_step.{json,md}`` (on cuda in ``results/cuda/``; ``--results-dir DIR``:
in DIR). On cuda the full-size batch is 32, the config's images a GPU. ``--profile SETTING`` prints instead the top
operators of one step of each model (torch.profiler).
"""
import argparse
import contextlib
import copy
import datetime
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
from unittest import mock

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.registry import init_default_scope
from mmpretrain.models.selfsup import MoCo
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import DataSample
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

import pinas_mm.models.algorithms.pinas as pinas_algorithm  # importing pinas_mm checks the stack, registers
from pinas_mm.models.backbones.pinas_resnest import PiNASResNeSt
from pinas_mm.models.utils import sample_two_paths
from pinas_mm.registry import MODELS
from pinas_mm.structures import format_subnet, parse_subnet
import device_figures as dev  # benchmarks/ is on sys.path
from supernet_overhead import RESULTS, kib, machine_info, save_results, table_head

SETTINGS = {
    'scaled-down': dict(space=dict(stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16), channels=512,
                        feat_dim=64, queue_len=1024, batch=16, size=64, steps=40, warmup=5),
    'full-size': dict(space=dict(), channels=2048, feat_dim=128, queue_len=65536, batch=2, cuda_batch=32, size=224,
                      steps=10, warmup=2),
}
SUPERNET_CONFIG = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'pinas', 'supernet.py')
KINDS = ('pinas', 'pinas-same-path', 'pinas-pinned', 'moco')
BREAKDOWN = ('pinas', 'moco')  # the models whose step time is broken down (torch.profiler)


class SymmetricMoCo(MoCo):
    """MoCo-v2 on four views, symmetric: the compute of a PiNAS step on one fixed architecture."""

    def _key(self, view):
        view, restore_order = batch_shuffle_ddp(view)
        return batch_unshuffle_ddp(F.normalize(self.encoder_k(view)[0], dim=1), restore_order)

    def _info_nce(self, query, key):
        positive = torch.einsum('nc,nc->n', query, key).unsqueeze(-1)
        return self.head.loss(positive, torch.einsum('nc,ck->nk', query, self.queue.clone().detach()))

    def loss(self, inputs, data_samples, **kwargs):
        q1, q3 = (F.normalize(self.neck(self.backbone(view))[0], dim=1) for view in (inputs[0], inputs[2]))
        with torch.no_grad():
            self.encoder_k.update_parameters(nn.Sequential(self.backbone, self.neck))
            k2, k4 = self._key(inputs[1]), self._key(inputs[3])
        losses = dict(loss_1_2=self._info_nce(q1, k2), loss_3_4=self._info_nce(q3, k4))
        self._dequeue_and_enqueue(F.normalize((k2 + k4) / 2, dim=1))
        return losses


def candidate_macs(setting):
    """Backbone MACs at batch 1: (shared part, {layer: {candidate: MACs}}), from torch's FLOP counter."""
    supernet = PiNASResNeSt(out_indices=(3, ), **setting['space'])
    supernet.eval()
    image = torch.zeros(1, 3, setting['size'], setting['size'])
    per_layer = {name: {} for name in supernet.layer_names}
    for choice in supernet.candidate_settings:
        for name in supernet.layer_names:
            supernet.get_submodule(name).current_choice = choice
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            supernet(image)
        counts = {module: sum(ops.values()) / 2 for module, ops in counter.get_flop_counts().items()}
        for name in supernet.layer_names:
            per_layer[name][choice] = counts.get(f'{type(supernet).__name__}.{name}', 0)
        shared = counts['Global'] - sum(per_layer[name][choice] for name in supernet.layer_names)
    return shared, per_layer


def path_macs(macs, path):
    shared, per_layer = macs
    if isinstance(path, str):  # a subnet's digits
        path = parse_subnet(path, list(per_layer), list(next(iter(per_layer.values()))))
    return shared + sum(per_layer[name][choice] for name, choice in zip(per_layer, path))


def choose_subnet(macs, samples=4096):
    """A path of average compute: most even candidate counts, then MACs closest to a random path's expectation."""
    per_layer = macs[1]
    choices = sorted(next(iter(per_layer.values())))
    expected = macs[0] + sum(statistics.fmean(costs.values()) for costs in per_layer.values())
    draws = torch.randint(len(choices), (samples, len(per_layer)), generator=torch.Generator().manual_seed(0))

    def score(path):
        counts = [path.count(c) for c in choices]
        return max(counts) - min(counts), abs(path_macs(macs, path) - expected)

    return format_subnet(min(([choices[i] for i in row] for row in draws.tolist()), key=score)), expected


def build(setting, kind, subnet, device='cpu'):
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    common = dict(neck=dict(type='MoCoV2Neck', in_channels=setting['channels'], hid_channels=setting['channels'],
                            out_channels=setting['feat_dim'], with_avg_pool=True),
                  head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
                  queue_len=setting['queue_len'], feat_dim=setting['feat_dim'])
    if kind == 'moco':
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            return SymmetricMoCo(PiNASResNeSt(arch=subnet, out_indices=(3, ), **setting['space']),
                                 **common).to(device)
    backbone = dict(type='PiNASResNeSt', out_indices=(3, ), **setting['space'])
    return MODELS.build(dict(type='PiNAS', backbone=backbone, cross_path=kind != 'pinas-same-path',
                             **common)).to(device)


def stepper(setting, kind, model, subnet, device='cpu', amp=None):
    """A function doing one training step (on the given batch, or on fixed random views as a dataloader yields
    them: uint8 in host memory); it returns the two paths the step ran (None for ``moco``)."""
    inputs = [torch.randint(0, 256, (setting['batch'], 3, setting['size'], setting['size']), dtype=torch.uint8,
                            generator=torch.Generator().manual_seed(view)) for view in range(4)]
    samples = [DataSample() for _ in range(setting['batch'])]
    optim_wrapper = dev.optim_wrapper(torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4),
                                      device, amp)
    pinned = None
    if kind == 'pinas-pinned':
        path = parse_subnet(subnet, model.backbone.layer_names, list(model.backbone.candidate_settings))
        pinned = mock.patch.object(pinas_algorithm, 'sample_two_paths', lambda *args, **kwargs: (path, path))

    def step(batch=None):
        paths = None
        if kind != 'moco':  # the paths the step will draw, from a copy of the model's generator
            paths = sample_two_paths(model.student_layers, torch.Generator().set_state(
                model.path_generator.get_state()), model.cross_path) if pinned is None else (path, path)
        with pinned or contextlib.nullcontext():
            model.train_step(batch or dict(inputs=list(inputs), data_samples=samples), optim_wrapper)
        return paths

    return step


def time_models(setting, subnet, macs, steps, warmup, device='cpu', amp=None):
    models = {kind: build(setting, kind, subnet, device) for kind in KINDS}
    steps_of = {kind: stepper(setting, kind, model, subnet, device, amp) for kind, model in models.items()}
    times = {kind: [] for kind in KINDS}
    ran_macs = {kind: [] for kind in KINDS if kind != 'moco'}
    for round_index in range(warmup + steps):
        shift = round_index % len(KINDS)
        for kind in KINDS[shift:] + KINDS[:shift]:
            elapsed, paths = dev.timed(steps_of[kind], device)
            if round_index >= warmup:
                times[kind].append(elapsed)
                if paths is not None:
                    ran_macs[kind].append(statistics.fmean(path_macs(macs, p) for p in paths))
    subnet_macs = path_macs(macs, subnet)
    base = times['moco']
    quartiles = statistics.quantiles(base, n=4)
    result = dict(steps=steps, warmup=warmup, moco_spread=(quartiles[2] - quartiles[0]) / statistics.median(base),
                  per_model={})
    for kind, model in models.items():
        own = times[kind]
        result['per_model'][kind] = dict(
            params_m=sum(p.numel() for n, p in model.named_parameters() if not n.startswith('encoder_k.')) / 1e6,
            median_ms=statistics.median(own) * 1e3, min_ms=min(own) * 1e3, times_ms=[t * 1e3 for t in own],
            ratio_of_medians=statistics.median(own) / statistics.median(base),
            median_round_ratio=statistics.median(t / b for t, b in zip(own, base)),
            ratio_of_minima=min(own) / min(base),
            path_macs_over_subnet=statistics.fmean(ran_macs[kind]) / subnet_macs if kind in ran_macs else 1.0)
    result['breakdown'] = {kind: dev.profile_step(steps_of[kind], device) for kind in BREAKDOWN}
    return result


def step_flops_per_image(backbone_macs):
    """FLOPs of one image's step: 2 FLOPs a MAC, 2 student views forward and backward (3 forwards each,
    ``TRAIN_FLOPS_PER_FORWARD``) and 2 teacher views forward; the projector and the queue (under 0.5 % of the
    backbone at full size) are left out."""
    return 2 * backbone_macs * (2 * dev.TRAIN_FLOPS_PER_FORWARD + 2)


def child_memory(setting_name, kind, subnet, threads, device='cpu', amp=None, steps=4):
    """In this fresh process: RSS (and on cuda allocated device memory) after building ``kind``, then their
    high-water marks over ``steps`` steps."""
    torch.set_num_threads(threads)
    setting = SETTINGS[setting_name]
    model = build(setting, kind, subnet, device)
    step = stepper(setting, kind, model, subnet, device, amp)
    built, device_built = kib('VmRSS'), dev.allocated_mb(device)
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # VmHWM := VmRSS (Linux >= 4.0)
    dev.reset_peak_memory(device)
    for _ in range(steps):
        step()
    dev.synchronize(device)
    peak, device_peak = kib('VmHWM'), dev.peak_memory_mb(device)
    return dict(rss_after_build_mb=built / 1024, peak_rss_mb=peak / 1024, step_increase_mb=(peak - built) / 1024,
                device_after_build_mb=device_built, peak_device_mb=device_peak,
                device_step_increase_mb=None if device_peak is None else device_peak - device_built)


def memory(setting_name, kind, subnet, threads, device='cpu', amp=None):
    command = [sys.executable, __file__, '--threads', str(threads), '--device', device,
               *(['--amp', amp] if amp else []), '--memory-child', setting_name, kind, subnet]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])


def profile(setting_name, subnet, threads, device='cpu', amp=None, rows=15, warmup=4):
    setting = SETTINGS[setting_name]
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device == 'cuda':
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    sort_by = 'self_cuda_time_total' if device == 'cuda' else 'self_cpu_time_total'
    for kind in KINDS:
        model = build(setting, kind, subnet, device)
        step = stepper(setting, kind, model, subnet, device, amp)
        for _ in range(warmup):
            step()
        with torch.profiler.profile(activities=activities) as prof:
            step()
            dev.synchronize(device)
        print(f'== {setting_name} {kind}: one step, top {rows} operators by {sort_by} ({threads} threads, {device})')
        print(prof.key_averages().table(sort_by=sort_by, row_limit=rows))


class SyntheticImages(torch.utils.data.Dataset):
    """``length`` samples of ``files`` (cycled) through ``pipeline``, as the config's ImageNet dataset yields them."""

    def __init__(self, files, length, pipeline):
        self.files, self.length, self.pipeline = files, length, pipeline

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        return self.pipeline(dict(img_path=self.files[index % len(self.files)]))


def write_images(directory, count=8, size=(500, 375)):
    """JPEG files of ImageNet's typical size (smooth random images: upsampled noise) to decode."""
    generator = torch.Generator().manual_seed(0)
    files = []
    for index in range(count):
        noise = torch.randint(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=torch.uint8, generator=generator)
        files.append(osp.join(directory, f'{index}.jpg'))
        Image.fromarray(noise.numpy()).resize(size, Image.BILINEAR).save(files[-1], quality=90)
    return files


def train_pipeline(size):
    """``configs/pinas/supernet.py``'s four-view pipeline, its crops made ``size`` x ``size``."""
    pipeline = copy.deepcopy(Config.fromfile(SUPERNET_CONFIG).train_pipeline)
    for transforms in pipeline[1]['transforms']:
        for transform in transforms:
            if transform['type'] == 'RandomResizedCrop':
                transform['scale'] = size
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return Compose([TRANSFORMS.build(transform) for transform in pipeline])


def loader_figures(setting, subnet, device, amp, workers, steps):
    """``pinas`` fed by a DataLoader (``workers`` processes) running the config's pipeline on JPEG files: the time
    the loop waits on it vs the time it steps, and the pipeline's images/s in one process."""
    with tempfile.TemporaryDirectory() as directory:
        dataset = SyntheticImages(write_images(directory), setting['batch'] * (steps + 1),
                                  train_pipeline(setting['size']))
        one_process, _ = dev.timed(lambda: [dataset[i] for i in range(setting['batch'])], 'cpu')
        model = build(setting, 'pinas', subnet, device)
        step = stepper(setting, 'pinas', model, subnet, device, amp)
        loader = torch.utils.data.DataLoader(dataset, batch_size=setting['batch'], num_workers=workers,
                                             collate_fn=default_collate, pin_memory=device == 'cuda')
        batches = iter(loader)
        step(next(batches))  # warm-up: the workers' start and the first step
        waits, steps_s = dev.loader_wait(batches, step, device, steps)
    return dict(workers=workers, steps=steps, pipeline_images_per_s_one_process=setting['batch'] / one_process,
                median_wait_ms=statistics.median(waits) * 1e3, median_step_ms=statistics.median(steps_s) * 1e3,
                wait_share=dev.wait_share(waits, steps_s),
                loop_images_per_s=setting['batch'] * steps / (sum(waits) + sum(steps_s)))


HEADER = ('setting', 'model', 'backbone', 'params M', 'step median ms', 'ratio to moco', 'median round ratio',
          'ratio of minima', 'path MACs / SUBNET', 'RSS after build MB', 'peak RSS MB (ratio)',
          'step RSS increase MB (ratio)')


def table(results):
    lines = table_head('PiNAS step vs symmetric MoCo-v2', results, 'Ratios are to `moco` (target <= 1.05).', HEADER)
    for name, r in results['settings'].items():
        mem_base = r['memory']['moco']
        for kind, t in r['time']['per_model'].items():
            m = r['memory'][kind]
            backbone = f"SUBNET {r['subnet']}" if kind in ('moco', 'pinas-pinned') else 'random paths'
            cells = [f"{name} ({r['batch']} x {r['size']}x{r['size']})", kind, backbone, f"{t['params_m']:.2f}",
                     f"{t['median_ms']:.1f}", f"{t['ratio_of_medians']:.3f}", f"{t['median_round_ratio']:.3f}",
                     f"{t['ratio_of_minima']:.3f}", f"{t['path_macs_over_subnet']:.3f}",
                     f"{m['rss_after_build_mb']:.0f}",
                     f"{m['peak_rss_mb']:.0f} ({m['peak_rss_mb'] / mem_base['peak_rss_mb']:.2f})",
                     f"{m['step_increase_mb']:.0f} ({m['step_increase_mb'] / mem_base['step_increase_mb']:.2f})"]
            lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines += [f"Noise, {name}: `moco`'s own step times spread by {r['time']['moco_spread']:.1%} (interquartile range / "
              "median); ratio differences within that are not resolved, and under machine load the ratio of minima "
              "is the steadiest estimate." for name, r in results['settings'].items()]
    lines += dev.device_table(results, [(name, kind, f) for name, r in results['settings'].items()
                                        for kind, f in r['device_figures'].items()])
    lines += ['', DEVICE_NOTE, '']
    for name, r in results['settings'].items():
        d = r['data_loading']
        lines.append(f"Data loading, {name}: `pinas` fed by a DataLoader with {d['workers']} workers running "
                     f"supernet.py's four-view pipeline on JPEG files: it waits {d['median_wait_ms']:.1f} ms for a "
                     f"batch and steps {d['median_step_ms']:.1f} ms (median of {d['steps']}; waiting "
                     f"{d['wait_share']:.0%} of the loop, {d['loop_images_per_s']:.1f} images/s); the pipeline alone "
                     f"makes {d['pipeline_images_per_s_one_process']:.1f} images/s in one process, so feeding "
                     f"{r['device_figures']['pinas']['images_per_s']:.1f} images/s takes about "
                     f"{r['device_figures']['pinas']['images_per_s'] / d['pipeline_images_per_s_one_process']:.1f} "
                     'such processes.')
    return '\n'.join(lines + ['', results['method']]) + '\n'


DEVICE_NOTE = ('An image is one sample of four views. GFLOPs / image: 2 FLOPs a MAC x the backbone MACs of the paths '
               'run, x (2 student views x 3 (forward and backward, assumed 3x the forward) + 2 teacher views x 1); '
               'the projector and queue are left out. Share of peak: achieved over the peak above. Breakdown: '
               'two profiled steps (torch.profiler, which slows each operator a little): host time inside torch '
               'operators, Python the rest of the wall time, and on cuda kernel time and GPU idle time '
               '(wall - kernels); n/a: GPU only, or not profiled. Peak device MB: max_memory_allocated over four '
               'steps in a fresh process.')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    parser.add_argument('--steps', type=int, help='timed rounds (default: 40 scaled-down, 10 full-size)')
    parser.add_argument('--settings', nargs='+', choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument('--batch', type=int, help='images a step, every setting (default: 16 scaled-down, full-size '
                        '2 on cpu and 32 on cuda, supernet.py\'s images a GPU)')
    parser.add_argument('--data-workers', type=int, default=min(8, os.cpu_count()),
                        help="the data-loading check's DataLoader workers (default: min(8, CPUs); supernet.py: 8)")
    parser.add_argument('--data-steps', type=int, default=5, help="the data-loading check's timed steps (default 5)")
    dev.add_arguments(parser)
    parser.add_argument('--results-dir', help=f'where to write the results (default: {RESULTS}, on cuda its '
                        'subfolder cuda)')
    parser.add_argument('--profile', choices=list(SETTINGS), help='profile one step of each model, then exit')
    parser.add_argument('--memory-child', nargs=3, metavar=('SETTING', 'KIND', 'SUBNET'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    dev.check_device(parser, args.device)
    if args.batch:
        for setting in SETTINGS.values():
            setting.update(batch=args.batch, cuda_batch=args.batch)
    if args.device == 'cuda':
        for setting in SETTINGS.values():
            setting['batch'] = setting.get('cuda_batch', setting['batch'])
    if args.memory_child:
        print(json.dumps(child_memory(*args.memory_child, args.threads, args.device, args.amp)))
        return
    torch.set_num_threads(args.threads)
    if args.profile:
        profile(args.profile, choose_subnet(candidate_macs(SETTINGS[args.profile]))[0], args.threads, args.device,
                args.amp)
        return
    machine = machine_info(args.threads)
    results = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), machine=machine,
                   device=dev.device_record(args.device, args.amp, dev.device_name(args.device, machine['cpu']),
                                            args.peak_tflops),
                   method='\n\n'.join(__doc__.split('\n\n')[1:6]), settings={})
    for name in args.settings:
        setting = SETTINGS[name]
        macs = candidate_macs(setting)
        subnet, expected = choose_subnet(macs)
        print(f'{name}: SUBNET {subnet}; timing ...', flush=True)
        timing = time_models(setting, subnet, macs, args.steps or setting['steps'], setting['warmup'], args.device,
                             args.amp)
        print(f'{name}: memory (one subprocess per model) ...', flush=True)
        memory_of = {kind: memory(name, kind, subnet, args.threads, args.device, args.amp) for kind in KINDS}
        print(f'{name}: data loading ({args.data_workers} workers) ...', flush=True)
        data = loader_figures(setting, subnet, args.device, args.amp, args.data_workers, args.data_steps)
        figures = {kind: dev.figures(setting['batch'], t['median_ms'] / 1e3,
                                     step_flops_per_image(path_macs(macs, subnet) * t['path_macs_over_subnet']),
                                     results['device'], memory_of[kind]['peak_device_mb'],
                                     timing['breakdown'].get(kind))
                   for kind, t in timing['per_model'].items()}
        results['settings'][name] = dict(
            subnet=subnet, subnet_backbone_gmacs=path_macs(macs, subnet) / 1e9, expected_path_gmacs=expected / 1e9,
            batch=setting['batch'], size=setting['size'], space=setting['space'], time=timing, memory=memory_of,
            device_figures=figures, data_loading=data)
    save_results('pinas_step', results, table, args.results_dir or dev.default_results_dir(RESULTS, args.device))


if __name__ == '__main__':
    main()
