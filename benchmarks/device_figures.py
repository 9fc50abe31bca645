# Copyright (c) pinas_mm contributors. All rights reserved.
"""What the benchmarks measure on any device: images/s, peak device memory, the share of the device's peak arithmetic
rate a step uses, and where a step's time goes.

- ``--device {cpu,cuda}``: on cuda every timed region starts and ends with ``torch.cuda.synchronize()``, and peak
  memory is ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` (GPU-only fields are ``None`` on
  cpu, shown as n/a). ``--amp {fp16,bf16}`` (``--amp`` alone: fp16, as the configs' ``AmpOptimWrapper``): autocast
  in the training step, through mmengine's ``AmpOptimWrapper`` on cuda (dynamic loss scale, as the configs) and
  ``torch.autocast('cpu')`` on cpu.
- share of peak: achieved FLOP/s (the step's FLOPs from the model's MACs, 2 FLOPs a MAC, over the measured step time)
  over the device's dense peak from ``PEAK_TFLOPS`` (16-bit tensor-core peak with ``--amp``, else TF32, which cuDNN
  uses for fp32 convolutions by default), or ``--peak-tflops``; ``None`` (unknown) when neither, as on cpu.
- breakdown (``profile_step``): a few steps under ``torch.profiler``: wall time, host time inside torch operators
  (self CPU time of every event: aten ops, and on cuda the runtime's launch calls), the rest of the wall time being
  Python (the model's and mmengine's code between operators), and on cuda the kernel time (self CUDA time of every
  kernel); kernel time / wall time is how busy the GPU is, and its complement the time it waits for the host. The
  profiler adds a few microseconds per operator, so the shares are of a slightly slowed step. Data loading is
  measured by ``loader_wait``: the time a training loop waits on its dataloader vs the time it steps.
"""
import contextlib
import os.path as osp
import re
import time

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper

# dense (no sparsity) tensor-core peaks in TFLOP/s from NVIDIA's datasheets, SXM parts where the name does not say:
# (pattern matched against torch.cuda.get_device_name, 16-bit (bf16 / fp16), TF32 (fp32 where there is no TF32)),
# the first match wins
PEAK_TFLOPS = (
    (r'H200', 989.4, 494.7),
    (r'H100 PCIe', 756.0, 378.0),
    (r'H100', 989.4, 494.7),
    (r'A100', 312.0, 156.0),
    (r'L40S', 362.1, 183.0),
    (r'\bL4\b', 121.0, 60.0),
    (r'\bA10\b', 125.0, 62.5),
    (r'V100', 125.0, 15.7),
    (r'\bT4\b', 65.0, 8.1),
)
# FLOPs of a training step per forward FLOP: the forward, and a backward of about twice the forward (the gradients
# of the inputs and of the weights, each about one forward); an assumption, not a count
TRAIN_FLOPS_PER_FORWARD = 3


def add_arguments(parser, amp=True):
    """``--device``, ``--peak-tflops`` and, for benchmarks whose step trains, ``--amp``."""
    parser.add_argument('--device', choices=('cpu', 'cuda'), default='cpu', help='default: cpu')
    if amp:
        parser.add_argument('--amp', nargs='?', const='fp16', choices=('fp16', 'bf16'),
                            help='autocast the training step to this dtype (--amp alone: fp16, as the configs)')
    parser.add_argument('--peak-tflops', type=float,
                        help="the device's peak TFLOP/s for the share of peak (default: from the table of known GPUs)")


def check_device(parser, device):
    if device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch sees no CUDA device (torch.cuda.is_available() is False)')


def default_results_dir(results, device):
    """The stored CPU figures in ``results``, GPU figures in its subfolder ``cuda``."""
    return results if device == 'cpu' else osp.join(results, device)


def synchronize(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(function, device):
    """Seconds ``function()`` takes, the device's queued work included, and its result."""
    synchronize(device)
    start = time.perf_counter()
    result = function()
    synchronize(device)
    return time.perf_counter() - start, result


def reset_peak_memory(device):
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()


def allocated_mb(device):
    return torch.cuda.memory_allocated() / 2**20 if device == 'cuda' else None


def peak_memory_mb(device):
    return torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' else None


def device_name(device, cpu_name):
    return torch.cuda.get_device_name() if device == 'cuda' else cpu_name


def lookup_peak_tflops(name, amp, override=None):
    """(peak TFLOP/s or None, where it came from) of the device named ``name`` for 16-bit (``amp``) or fp32 work."""
    if override:
        return override, '--peak-tflops'
    for pattern, half, tf32 in PEAK_TFLOPS:
        if re.search(pattern, name):
            return (half, f'{pattern} dense bf16/fp16') if amp else (tf32, f'{pattern} dense TF32')
    return None, 'unknown'


def utilisation(flops, seconds, peak_tflops):
    """Achieved TFLOP/s of ``flops`` done in ``seconds``, and its share of ``peak_tflops`` (None: unknown)."""
    achieved = flops / seconds / 1e12
    return dict(achieved_tflops=achieved, share_of_peak=achieved / peak_tflops if peak_tflops else None)


def device_record(device, amp, name, peak_override=None):
    """What a results file says about the device its figures were measured on."""
    peak, source = lookup_peak_tflops(name, amp, peak_override)
    return dict(device=device, name=name, amp=amp, peak_tflops=peak, peak_source=source)


def figures(images, seconds, flops_per_image, record, memory=None, breakdown=None):
    """One line of a device table: images/s of ``images`` in ``seconds``, achieved TFLOP/s and share of peak, peak
    device memory (MB, None on cpu) and the time breakdown."""
    return dict(images_per_s=images / seconds, gflops_per_image=flops_per_image / 1e9,
                **utilisation(images * flops_per_image, seconds, record['peak_tflops']), peak_device_mb=memory,
                breakdown=breakdown)


class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose step runs under ``torch.autocast('cpu', dtype)`` (mmengine's ``AmpOptimWrapper``
    needs a GPU); no loss scaling."""

    def __init__(self, optimizer, dtype, **kwargs):
        super().__init__(optimizer, **kwargs)
        self.cast_dtype = dtype

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield


def optim_wrapper(optimizer, device, amp):
    """The optimizer wrapped as the configs train: fp32, or autocast to ``amp`` ('fp16' / 'bf16')."""
    if not amp:
        return OptimWrapper(optimizer)
    dtype = dict(fp16=torch.float16, bf16=torch.bfloat16)[amp]
    if device == 'cuda':
        return AmpOptimWrapper(optimizer=optimizer, loss_scale='dynamic', dtype=dtype)
    return CPUAmpOptimWrapper(optimizer, dtype)


def autocast(device, amp):
    """Autocast to ``amp``'s dtype on ``device``, or nothing without ``amp``."""
    if not amp:
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=dict(fp16=torch.float16, bf16=torch.bfloat16)[amp])


def split_step_time(wall_s, host_op_s, kernel_s, steps):
    """Per step: wall, host time in torch operators, Python (the rest of the host's time) and, on cuda (``kernel_s``
    not None), kernel time and the GPU's idle time (wall - kernels), all in ms, with their shares of the wall time."""
    per_step = 1e3 / steps
    wall, host_ops = wall_s * per_step, host_op_s * per_step
    result = dict(wall_ms=wall, host_op_ms=host_ops, python_ms=max(wall - host_ops, 0.0),
                  host_op_share=host_ops / wall, kernel_ms=None, kernel_share=None, gpu_idle_ms=None)
    if kernel_s is not None:
        kernels = kernel_s * per_step
        result.update(kernel_ms=kernels, kernel_share=kernels / wall, gpu_idle_ms=max(wall - kernels, 0.0))
    return result


def profile_step(step, device, steps=2):
    """Where ``steps`` calls of ``step()`` spend their time (``split_step_time``), with operator and kernel counts."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device == 'cuda':
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        wall, _ = timed(lambda: [step() for _ in range(steps)], device)
    events = prof.key_averages()
    host = sum(e.self_cpu_time_total for e in events) / 1e6
    kernel_events = [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
    kernels = sum(e.self_device_time_total for e in kernel_events) / 1e6 if device == 'cuda' else None
    result = split_step_time(wall, host, kernels, steps)
    result.update(ops_per_step=sum(e.count for e in events if e.key.startswith('aten::')) / steps,
                  kernels_per_step=sum(e.count for e in kernel_events) / steps if device == 'cuda' else None)
    return result


def loader_wait(batches, step, device, steps):
    """Seconds a loop waits on ``next(batches)`` and seconds it steps (``step(batch)``, synchronised), per step."""
    waits, steps_s = [], []
    for _ in range(steps):
        wait, batch = timed(lambda: next(batches), 'cpu')
        elapsed, _ = timed(lambda: step(batch), device)
        waits.append(wait)
        steps_s.append(elapsed)
    return waits, steps_s


def wait_share(waits, steps_s):
    """The share of a loop's time spent waiting on the dataloader."""
    return sum(waits) / (sum(waits) + sum(steps_s))


def cell(value, spec, scale=1.0):
    """``value * scale`` formatted, or 'n/a' (a GPU-only figure on cpu) / 'unknown' (no peak) for None."""
    return 'n/a' if value is None else f'{value * scale:{spec}}'


DEVICE_COLUMNS = ('setting', 'model', 'images/s', 'GFLOPs / image', 'achieved TFLOP/s', 'share of peak',
                  'peak device MB', 'profiled step ms', 'in torch ops (host) %', 'Python ms', 'kernels %',
                  'GPU idle ms', 'ops / kernels per step')


def device_table(results, rows):
    """A markdown table of (setting, model, ``figures``) ``rows``, preceded by the device it was measured on."""
    record = results['device']
    peak = f"{record['peak_tflops']} TFLOP/s ({record['peak_source']})" if record['peak_tflops'] else 'unknown'
    lines = ['', f"## Device figures: {record['name']} ({record['device']}, amp {record['amp'] or 'off'}), peak "
             f'{peak}', '', '| ' + ' | '.join(DEVICE_COLUMNS) + ' |', '|' + '---|' * len(DEVICE_COLUMNS)]
    for setting, model, f in rows:
        b = f.get('breakdown') or {}
        share = 'unknown' if f['share_of_peak'] is None else f"{f['share_of_peak']:.2%}"
        counts = f"{cell(b.get('ops_per_step'), '.0f')} / {cell(b.get('kernels_per_step'), '.0f')}"
        cells = [setting, model, f"{f['images_per_s']:.1f}", f"{f['gflops_per_image']:.2f}",
                 f"{f['achieved_tflops']:.3f}", share, cell(f['peak_device_mb'], '.0f'), cell(b.get('wall_ms'), '.1f'),
                 cell(b.get('host_op_share'), '.0f', 100), cell(b.get('python_ms'), '.1f'),
                 cell(b.get('kernel_share'), '.0f', 100), cell(b.get('gpu_idle_ms'), '.1f'), counts]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return lines
