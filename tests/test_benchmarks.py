# Copyright (c) pinas_mm contributors. All rights reserved.
"""benchmarks/: run_all.py --quick end to end, and the device figures' pure logic (peaks, utilisation, breakdown)."""
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
import device_figures as dev  # noqa: E402


def test_run_all_quick(repo_root, tmp_path):
    command = [sys.executable, 'benchmarks/run_all.py', '--quick', '--only', 'search_candidate_cost', '--results-dir',
               str(tmp_path)]  # one batch of each kind of image, one subnet, one repetition
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {path.name for path in tmp_path.iterdir()} == {'search_candidate_cost.json', 'search_candidate_cost.md',
                                                          'summary.md'}
    summary = (tmp_path / 'summary.md').read_text()
    for setting in ('scaled-down', 'full-size'):  # a row per setting, with its ratio, and its device figures
        assert re.search(rf'^\| search_candidate_cost \| {setting} \| [^|]+ \| \d+\.\d{{3}} \|', summary, re.M), summary
        for model in ('candidate', 'floor'):  # images/s, TFLOP/s; on cpu no peak, no device memory, no kernels
            assert re.search(rf'^\| search_candidate_cost \| {setting} \| {model} \| [\d.]+ \| [\d.]+ \| unknown \| '
                             r'n/a \| n/a \| \d+ \|$', summary, re.M), summary
    assert '--reps 1 --subnets 1' in summary  # the command that made the results file
    assert 'Device: cpu, amp off.' in summary
    table = (tmp_path / 'search_candidate_cost.md').read_text()
    assert '## Device figures: ' in table and '(cpu, amp off), peak unknown' in table


@pytest.mark.parametrize('name, amp, expected', [
    ('NVIDIA H200', True, 989.4),
    ('NVIDIA H100 80GB HBM3', True, 989.4),
    ('NVIDIA H100 PCIe', True, 756.0),
    ('NVIDIA A100-SXM4-80GB', True, 312.0),
    ('NVIDIA A100-SXM4-80GB', False, 156.0),  # TF32 without autocast
    ('NVIDIA A10', True, 125.0),  # not A100's
    ('NVIDIA L40S', True, 362.1),
    ('NVIDIA L4', True, 121.0),  # not L40S's
    ('Tesla V100-SXM2-16GB', False, 15.7),  # no TF32: fp32
    ('NVIDIA A10G', True, None),  # not in the table
    ('AMD EPYC', True, None),
])
def test_lookup_peak_tflops(name, amp, expected):
    peak, source = dev.lookup_peak_tflops(name, amp)
    assert peak == expected
    assert (source == 'unknown') == (expected is None)


def test_peak_override_and_device_record():
    assert dev.lookup_peak_tflops('AMD EPYC', False, override=2.5) == (2.5, '--peak-tflops')
    assert dev.lookup_peak_tflops('NVIDIA H200', True, override=100.0)[0] == 100.0
    record = dev.device_record('cuda', 'fp16', 'NVIDIA H200')
    assert record == dict(device='cuda', name='NVIDIA H200', amp='fp16', peak_tflops=989.4,
                          peak_source='H200 dense bf16/fp16')


def test_utilisation_arithmetic():
    # the figure: 213 images/s, each 16 x 5.36 GMACs x ... = 85.7 GFLOPs, on an H200: about 1.85 % of peak
    flops_per_image = 2 * 5.357e9 * (2 * dev.TRAIN_FLOPS_PER_FORWARD + 2)
    u = dev.utilisation(213 * flops_per_image, 1.0, 989.4)
    assert u['achieved_tflops'] == pytest.approx(18.26, abs=0.01)
    assert u['share_of_peak'] == pytest.approx(0.01845, abs=1e-4)
    assert dev.utilisation(2e12, 2.0, None) == dict(achieved_tflops=1.0, share_of_peak=None)
    f = dev.figures(32, 0.5, 1e9, dict(peak_tflops=0.128), memory=None)
    assert f['images_per_s'] == 64 and f['gflops_per_image'] == 1 and f['share_of_peak'] == pytest.approx(0.5)


def test_split_step_time():
    cpu = dev.split_step_time(wall_s=1.0, host_op_s=0.8, kernel_s=None, steps=2)
    assert cpu == dict(wall_ms=500.0, host_op_ms=400.0, python_ms=pytest.approx(100.0), host_op_share=0.8,
                       kernel_ms=None, kernel_share=None, gpu_idle_ms=None)
    cuda = dev.split_step_time(wall_s=0.3, host_op_s=0.25, kernel_s=0.06, steps=2)
    assert cuda['kernel_ms'] == pytest.approx(30.0) and cuda['kernel_share'] == pytest.approx(0.2)
    assert cuda['gpu_idle_ms'] == pytest.approx(120.0) and cuda['python_ms'] == pytest.approx(25.0)


def test_profile_step_on_cpu():
    weight = torch.randn(64, 64, requires_grad=True)
    breakdown = dev.profile_step(lambda: (torch.randn(32, 64) @ weight).relu().sum().backward(), 'cpu', steps=2)
    assert set(breakdown) == {'wall_ms', 'host_op_ms', 'python_ms', 'host_op_share', 'kernel_ms', 'kernel_share',
                              'gpu_idle_ms', 'ops_per_step', 'kernels_per_step'}
    assert breakdown['wall_ms'] > 0 and breakdown['ops_per_step'] >= 4  # randn, mm, relu, sum and the backward's
    assert 0 < breakdown['host_op_share'] <= 1.5  # the backward's operators may overlap the caller's wait
    assert breakdown['kernel_ms'] is None and breakdown['kernels_per_step'] is None


def test_loader_wait_and_share():
    batches = iter(range(5))
    seen = []
    waits, steps = dev.loader_wait(batches, seen.append, 'cpu', steps=3)
    assert seen == [0, 1, 2] and len(waits) == len(steps) == 3
    assert dev.wait_share([1.0, 1.0], [3.0, 3.0]) == 0.25


def test_cpu_amp_optim_wrapper_autocasts():
    model = torch.nn.Linear(4, 4)
    wrapper = dev.optim_wrapper(torch.optim.SGD(model.parameters(), lr=0.1), 'cpu', 'bf16')
    with wrapper.optim_context(model):
        assert model(torch.randn(2, 4)).dtype == torch.bfloat16
    assert model(torch.randn(2, 4)).dtype == torch.float32
    assert type(dev.optim_wrapper(torch.optim.SGD(model.parameters(), lr=0.1), 'cpu', None)).__name__ == 'OptimWrapper'


def test_device_table_marks_gpu_fields():
    results = dict(device=dev.device_record('cpu', None, 'AMD EPYC'))
    f = dev.figures(8, 1.0, 1e9, results['device'], breakdown=dev.split_step_time(1.0, 0.9, None, 1))
    lines = dev.device_table(results, [('full-size', 'pinas', f)])
    assert lines[1] == '## Device figures: AMD EPYC (cpu, amp off), peak unknown'
    assert lines[-1] == ('| full-size | pinas | 8.0 | 1.00 | 0.008 | unknown | n/a | 1000.0 | 90 | 100.0 | n/a | n/a | '
                         'n/a / n/a |')


def test_pinas_step_flops_assumption():
    import pinas_step
    assert pinas_step.step_flops_per_image(1.0) == 16.0  # 2 FLOPs a MAC x (2 views x 3 + 2 views x 1)
