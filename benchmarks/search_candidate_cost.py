# Copyright (c) pinas_mm contributors. All rights reserved.
"""What scoring one candidate costs in the search vs a plain forward pass of the same subnet built fixed.

For each setting (the scaled-down space with the settings of ``configs/pinas/search_mnist5k.py``: 512 calibration
and 512 scored images in batches of 128 at 32x32; and the paper's full-size space of ``configs/pinas/supernet.py``
at 224x224 with a few small batches), on random input tensors, in one run:

- candidate: what ``PiNASSearchLoop._score_candidate`` does per candidate on a ``PiNAS`` supernet: the mutator's
  ``set_choices`` of a random subnet, the same path for the EMA teacher (``apply_path``), BN recalibration of the
  student and the teacher on the calibration images (``recalibrated_bn``, statistics restored afterwards) and
  ``ContrastiveScore`` on the scored batches (student on view 1, teacher on view 2, InfoNCE against the queue).
  Timed in two parts: recalibration (path setting included) and scoring (the restore on exit in the total only).
- floor: ``nn.Sequential(PiNASResNeSt(arch=path), neck)`` with the supernet's weights of that path, eval mode, no
  grad, forwarding what the candidate forwards through student and teacher: every calibration batch twice and both
  views of every scored batch, at the same batch size; timed in the same two parts, so that recalibration and
  scoring each have their own floor. Target: candidate / floor <= 1.2.

Several random subnets per setting; per subnet the two are interleaved after one warm-up pair, in alternating order
(AB BA AB ...), so that drifting load on the (shared, noisy) machine hits both alike. Reported: the median times over
all subnets and repetitions, the median of all per-pair ratios candidate / floor (the headline figure) with the
median over subnets of min(candidate) / min(floor) as a load-robust cross-check, each part over its floor, and
candidates per minute (60 s / the median candidate time).

Device figures (``device_figures.py``): image-forwards per second, their FLOPs (forward only) and share of the
device's peak, and for one more candidate and floor, profiled, peak device memory and where the time goes. The
search does not train, so there is no ``--amp``; ``--device cuda`` synchronises at every clock reading, and the
full-size batch is then 32.

Run: ``python benchmarks/search_candidate_cost.py [--threads 2] [--reps N] [--subnets N] [--settings scaled-down
full-size] [--device {cpu,cuda}] [--peak-tflops T] [--max-batches N] [--warmup N]`` (about 3.5 minutes on 2 CPU
cores); prints a table and writes ``benchmarks/results/search_candidate_cost.{json,md}`` (on cuda in ``results/cuda/``;
``--results-dir DIR``: in DIR).
"""
import argparse
import datetime
import os.path as osp
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

import pinas_mm  # noqa: F401  (checks the installed stack, applies compat fixes, registers modules)
from pinas_mm.models.backbones.pinas_resnest import PiNASResNeSt
from pinas_mm.models.task_modules import ContrastiveScore
from pinas_mm.models.utils import apply_path, recalibrated_bn
from pinas_mm.registry import MODELS
from pinas_mm.structures import format_subnet, subnet_state_dict
import device_figures as dev  # benchmarks/ is on sys.path (script)
from supernet_overhead import RESULTS, machine_info, save_results, table_head

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'pinas')
SETTINGS = {
    'scaled-down': dict(config='search_mnist5k.py', subnets=8, reps=7),  # images, batch, size from its train_cfg
    'full-size': dict(config='supernet.py', calibration=8, scored=8, batch=4, cuda_batch=32, size=224, subnets=3,
                      reps=5),
}
KEYS = ('recalibration', 'scoring', 'candidate', 'floor_recalibration', 'floor_scoring', 'floor')


def load_setting(setting, device='cpu', max_batches=None):
    """The config's model and the search's image counts (at most ``max_batches`` batches each), batch size and
    input size."""
    cfg = Config.fromfile(osp.join(CONFIGS, setting['config']))
    search = cfg.train_cfg
    if search.get('type') == 'PiNASSearchLoop':
        setting = dict(setting, calibration=search.calibrate_sample_num, scored=search.num_score_images,
                       batch=search.dataloader.batch_size, size=search.input_shape[-1])
    if device == 'cuda':
        setting = dict(setting, batch=setting.get('cuda_batch', setting['batch']))
    if max_batches:
        setting = dict(setting, calibration=min(setting['calibration'], max_batches * setting['batch']),
                       scored=min(setting['scored'], max_batches * setting['batch']))
    return cfg.model, setting


def batches(setting, num_images, num_views, generator, device='cpu'):
    """Random preprocessed images in the setting's batches: a list of ``num_views`` tensors per batch."""
    return [[torch.randn(min(setting['batch'], num_images - start), 3, setting['size'], setting['size'],
                         generator=generator).to(device) for _ in range(num_views)]
            for start in range(0, num_images, setting['batch'])]


def clock(device):
    """time.perf_counter() once the device's queued work is done."""
    dev.synchronize(device)
    return time.perf_counter()


def score_candidate(model, score, subnet, calibration_images, score_batches, device='cpu'):
    """``PiNASSearchLoop._score_candidate``, timed: {recalibration, scoring, candidate (total)} in seconds."""
    start = clock(device)
    model.mutator.set_choices(subnet)
    apply_path(model.teacher_layers, [layer.current_choice for layer in model.student_layers])
    with recalibrated_bn(score.networks(model), calibration_images), torch.no_grad():
        calibrated = clock(device)
        score(model, score_batches)
        scored = clock(device)
    return dict(recalibration=calibrated - start, scoring=scored - calibrated, candidate=clock(device) - start)


def forward_floor(fixed, floor_images, device='cpu'):
    """The fixed subnet's plain forwards, timed: {floor_recalibration, floor_scoring, floor (total)} in seconds."""
    times = {}
    with torch.no_grad():
        for part, images in floor_images.items():
            start = clock(device)
            for batch in images:
                fixed(batch)
            times[f'floor_{part}'] = clock(device) - start
    return dict(times, floor=sum(times.values()))


def forward_macs(fixed, size, device):
    """MACs of one image's forward through the fixed subnet and projector, from torch's FLOP counter."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        fixed(torch.zeros(1, 3, size, size, device=device))
    return counter.get_total_flops() / 2


def time_setting(setting, num_subnets, reps, warmup=1, device='cpu', max_batches=None):
    model_cfg, setting = load_setting(setting, device, max_batches)
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    np.random.seed(0)  # the mutator's draws (mmrazor samples with numpy)
    model = MODELS.build(model_cfg).to(device)
    score = ContrastiveScore()
    score.prepare(model, None)
    generator = torch.Generator().manual_seed(0)
    calibration_images = [views[0] for views in batches(setting, setting['calibration'], 1, generator, device)]
    score_batches = [dict(inputs=views, data_samples=[])
                     for views in batches(setting, setting['scored'], 2, generator, device)]
    # what the candidate forwards: each calibration batch through student and teacher, view 1 and view 2 of each
    floor_images = dict(recalibration=[images for images in calibration_images for _ in range(2)],
                        scoring=[view for batch in score_batches for view in batch['inputs']])
    backbone_cfg = {k: v for k, v in model_cfg.backbone.items() if k != 'type'}
    per_subnet, pair_ratios = [], []
    for _ in range(num_subnets):
        subnet = model.mutator.sample_choices()
        model.mutator.set_choices(subnet)
        path = [layer.current_choice for layer in model.student_layers]
        fixed_backbone = PiNASResNeSt(arch=path, **backbone_cfg)
        fixed_backbone.load_state_dict(subnet_state_dict(model.backbone.state_dict(), model.backbone.layer_names,
                                                         fixed_backbone.subnet))
        fixed = nn.Sequential(fixed_backbone.to(device), model.neck)
        fixed.eval()
        times = {key: [] for key in KEYS}
        for rep in range(warmup + reps):
            for kind in ('candidate', 'floor')[::1 if rep % 2 == 0 else -1]:  # ABBA...
                measured = score_candidate(model, score, subnet, calibration_images, score_batches, device) \
                    if kind == 'candidate' else forward_floor(fixed, floor_images, device)
                if rep >= warmup:
                    for key, value in measured.items():
                        times[key].append(value)
        ratios = [c / f for c, f in zip(times['candidate'], times['floor'])]
        pair_ratios += ratios
        macs = forward_macs(fixed, setting['size'], device)
        record = dict(subnet=format_subnet(path), forward_gmacs_per_image=macs / 1e9, times_s=times,
                      median_s={key: statistics.median(t) for key, t in times.items()},
                      median_pair_ratio=statistics.median(ratios),
                      ratio_of_minima=min(times['candidate']) / min(times['floor']))
        per_subnet.append(record)
        print(f"  {record['subnet']}: candidate {record['median_s']['candidate']:.3f} s, floor "
              f"{record['median_s']['floor']:.3f} s, ratio {record['median_pair_ratio']:.3f}", flush=True)
    medians = {key: statistics.median(t for s in per_subnet for t in s['times_s'][key]) for key in KEYS}
    # the last subnet's candidate and floor once more, profiled, each with its peak device memory
    breakdown, peak_device_mb = {}, {}
    for kind, run in (('candidate', lambda: score_candidate(model, score, subnet, calibration_images, score_batches,
                                                            device)),
                      ('floor', lambda: forward_floor(fixed, floor_images, device))):
        dev.reset_peak_memory(device)
        breakdown[kind] = dev.profile_step(run, device, steps=1)
        peak_device_mb[kind] = dev.peak_memory_mb(device)
    return dict(config=f"configs/pinas/{setting['config']}", calibration_images=setting['calibration'],
                scored_images=setting['scored'], batch=setting['batch'], size=setting['size'], reps=reps,
                warmup=warmup, floor_forwards={part: len(images) for part, images in floor_images.items()},
                median_s=medians, median_pair_ratio=statistics.median(pair_ratios),
                median_ratio_of_minima=statistics.median(s['ratio_of_minima'] for s in per_subnet),
                part_ratios={part: medians[part] / medians[f'floor_{part}'] for part in floor_images},
                candidates_per_minute=60 / medians['candidate'], subnets=per_subnet,
                image_forwards=2 * (setting['calibration'] + setting['scored']), breakdown=breakdown,
                peak_device_mb=peak_device_mb)


HEADER = ('setting', 'images (calibration + scored) / batch x input', 'subnets x reps', 'candidate s', 'floor s',
          'candidate / floor: median pair ratio', 'ratio of minima', 'recalibration s (/ its floor)',
          'scoring s (/ its floor)', 'per-subnet pair ratios', 'candidates / min')


def table(results):
    lines = table_head('Search: per-candidate cost vs a plain forward', results,
                       'Times are medians over all subnets and repetitions; ratio of minima: median over subnets of '
                       'min(candidate) / min(floor). Target: candidate / floor <= 1.2.', HEADER)
    for name, r in results['settings'].items():
        m, parts = r['median_s'], r['part_ratios']
        cells = [name, f"({r['calibration_images']} + {r['scored_images']}) / {r['batch']} x {r['size']}x{r['size']}",
                 f"{len(r['subnets'])} x {r['reps']}", f"{m['candidate']:.3f}", f"{m['floor']:.3f}",
                 f"{r['median_pair_ratio']:.3f}", f"{r['median_ratio_of_minima']:.3f}",
                 f"{m['recalibration']:.3f} ({parts['recalibration']:.2f})",
                 f"{m['scoring']:.3f} ({parts['scoring']:.2f})",
                 ', '.join(f"{s['subnet']} {s['median_pair_ratio']:.2f}" for s in r['subnets']),
                 f"{r['candidates_per_minute']:.0f}"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += dev.device_table(results, [(name, kind, f) for name, r in results['settings'].items()
                                        for kind, f in r['device_figures'].items()])
    lines += ['', 'An image is one image-forward (a candidate forwards each calibration image through student and '
              'teacher, and two views of each scored image). GFLOPs / image: 2 FLOPs a MAC x the forward MACs of '
              'the subnets (backbone and projector), no backward. Breakdown and peak device MB: one more candidate '
              'and one more floor, profiled (torch.profiler, which slows each operator a little); n/a: GPU only.']
    return '\n'.join(lines + ['', results['method']]) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    parser.add_argument('--reps', type=int, help='timed pairs per subnet (default: 7 scaled-down, 5 full-size)')
    parser.add_argument('--subnets', type=int, help='random subnets (default: 8 scaled-down, 3 full-size)')
    parser.add_argument('--settings', nargs='+', choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument('--warmup', type=int, default=1, help='untimed pairs per subnet first (default 1)')
    parser.add_argument('--max-batches', type=int, help='at most N batches of calibration and N of scored images '
                        "(default: the setting's images; for a quick check of the command)")
    dev.add_arguments(parser, amp=False)
    parser.add_argument('--results-dir', help=f'where to write the results (default: {RESULTS}, on cuda its '
                        'subfolder cuda)')
    args = parser.parse_args()
    dev.check_device(parser, args.device)
    torch.set_num_threads(args.threads)
    machine = machine_info(args.threads)
    results = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), machine=machine,
                   device=dev.device_record(args.device, None, dev.device_name(args.device, machine['cpu']),
                                            args.peak_tflops),
                   method='\n\n'.join(__doc__.split('\n\n')[1:5]), settings={})
    for name in args.settings:
        setting = SETTINGS[name]
        print(f'{name}: timing ...', flush=True)
        r = time_setting(setting, args.subnets or setting['subnets'], args.reps or setting['reps'],
                         warmup=args.warmup, device=args.device, max_batches=args.max_batches)
        flops = 2e9 * statistics.fmean(s['forward_gmacs_per_image'] for s in r['subnets'])
        r['device_figures'] = {kind: dev.figures(r['image_forwards'], r['median_s'][kind], flops, results['device'],
                                                 r['peak_device_mb'][kind], r['breakdown'][kind])
                               for kind in ('candidate', 'floor')}
        results['settings'][name] = r
    results_dir = args.results_dir or dev.default_results_dir(RESULTS, args.device)
    save_results('search_candidate_cost', results, table, results_dir)


if __name__ == '__main__':
    main()
