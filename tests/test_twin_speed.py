# Copyright (c) pinas_mm contributors. All rights reserved.
"""The CPU twin's speed-ups keep the math (the new update paths against benchmarks/twin_speed.py's copies of the old
ones), the twin config's thread count, and the benchmark's pure logic."""
import copy
import math
import os.path as osp
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
import twin_speed  # noqa: E402

from pinas_mm.engine.hooks.learning_monitor_hook import untracked_bn_statistics  # noqa: E402
from pinas_mm.engine.hooks.zero_grad_as_none_hook import drop_zero_gradients  # noqa: E402
from pinas_mm.models.utils import SampledPathEMA, SplitBatchNorm2d  # noqa: E402


def small_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 4))


def test_teacher_update_is_bit_identical_to_the_loop_over_parameters():
    student = small_model()
    new, old = SampledPathEMA(student, momentum=0.01), SampledPathEMA(student, momentum=0.01)
    frozen = {'1.weight', '3.bias'}
    for step in range(4):
        with torch.no_grad():
            for param in student.parameters():
                param.add_(torch.randn_like(param))
        new.update_parameters(student, frozen)
        twin_speed.old_update_parameters(old, student, frozen)
        if step == 0:
            first = student[1].weight.detach().clone()
    for (name, ours), theirs in zip(new.state_dict().items(), old.state_dict().values()):
        assert torch.equal(ours, theirs), name
    assert int(new.steps) == 4
    teacher = dict(new.module.named_parameters())
    assert not torch.equal(teacher['0.weight'], student[0].weight)  # moved, but not copied after the first update
    assert torch.equal(teacher['1.weight'], first)  # frozen since the first update's copy


def test_teacher_update_uses_an_overridden_avg_func():
    calls = []

    class Official(SampledPathEMA):
        def avg_func(self, averaged, source, steps):
            calls.append(steps)
            averaged.copy_(averaged * (1 - self.momentum) + source * self.momentum)

    student = small_model()
    ema = Official(student, momentum=0.5)
    for _ in range(2):
        ema.update_parameters(student, frozen={'0.bias'})
    assert len(calls) == len(list(student.parameters())) - 1  # once per moved parameter, at the second update


def test_dropping_zero_gradients_matches_the_old_hook_with_mixed_dtypes():
    params = [nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(2, dtype=torch.float64)),
              nn.Parameter(torch.ones(4)), nn.Parameter(torch.ones(1))]
    grads = [torch.zeros(3), torch.tensor([0., 1.], dtype=torch.float64), torch.tensor([0., 0., -2., 0.]), None]
    results = []
    for drop in (drop_zero_gradients, twin_speed.old_drop_zero_gradients):
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else grad.clone()
        drop(torch.optim.SGD(params, lr=0.1))
        results.append([param.grad is None for param in params])
    assert results[0] == results[1] == [True, False, False, True]


def test_monitor_bn_without_running_statistics_normalises_alike_and_leaves_them():
    # the learning monitor measures in train mode (batch statistics): without running statistics, the same outputs
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), SplitBatchNorm2d(8, num_splits=4), nn.BatchNorm2d(8)).train()
    images = torch.randn(16, 3, 6, 6)
    with torch.no_grad():
        expected = model(images)
        state = copy.deepcopy(model.state_dict())
        with untracked_bn_statistics(model):
            assert torch.equal(model(images), expected)
            model.eval()
            evaluated = model(images)
            model.train()
        assert all(torch.equal(value, state[key]) for key, value in model.state_dict().items())
        assert all(bn.track_running_stats for bn in (model[1], model[2]))
        model.eval()
        assert torch.equal(model(images), evaluated)  # eval mode: the running statistics, within the block too


def test_twin_config_reads_one_thread_unless_omp_num_threads_says_otherwise(repo_root, monkeypatch):
    threads = torch.get_num_threads()
    try:
        monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
        cfg = Config.fromfile(f'{repo_root}/configs/pinas/supernet_mnist5k.py')
        assert torch.get_num_threads() == 1 and 'torch' not in cfg and 'os' not in cfg
        assert cfg.train_dataloader.num_workers == 2 and cfg.train_dataloader.persistent_workers
        monkeypatch.setenv('OMP_NUM_THREADS', '2')
        Config.fromfile(f'{repo_root}/configs/pinas/supernet_mnist5k.py')
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_steps_per_s_rotation_and_loss_difference():
    ends = [5.0, 6.0, 6.5, 7.0, 7.5]  # the first iteration includes the start-up
    assert twin_speed.steps_per_s(ends, 2) == pytest.approx(3 / 1.5)
    assert twin_speed.steps_per_s(ends, 0) == pytest.approx(5 / 7.5)
    assert twin_speed.rotate(['a', 'b', 'c'], 4) == ['b', 'c', 'a']
    reference = [dict(loss=2.0, loss_alpha_beta=1.0), dict(loss=4.0, loss_alpha_beta=2.0)]
    assert twin_speed.loss_difference(copy.deepcopy(reference), reference, 2) == 0
    other = [dict(loss=2.0, loss_alpha_beta=1.0), dict(loss=4.0, loss_alpha_beta=2.2)]
    assert twin_speed.loss_difference(other, reference, 2) == pytest.approx(0.1)
    assert twin_speed.loss_difference(other, reference, 1) == 0
    assert math.isinf(twin_speed.loss_difference(other[:1], reference, 2))  # a run that stopped early fails


def test_summary_pairs_rounds_and_figures_difference():
    summary = twin_speed.summarise({'before': [1.0, 2.0, 4.0], 'now': [2.0, 3.0, 6.0], 'candidate': [3.0]})
    assert summary['now']['median_steps_per_s'] == 3.0
    assert summary['now']['ratio_of_medians'] == pytest.approx(1.5)
    assert summary['now']['median_round_ratio'] == pytest.approx(1.5)
    assert summary['now']['ratio_of_maxima'] == pytest.approx(1.5)
    assert summary['candidate']['ratio_of_medians'] == pytest.approx(3.0)  # against before's first round only
    assert twin_speed.figures_difference(dict(a=1.0, b=2.0), dict(a=1.5, b=2.0)) == 0.5


def test_state_keeps_measurements_for_the_same_settings_only(tmp_path):
    path, calls = str(tmp_path / 'state.json'), []

    def measure():
        calls.append(1)
        return dict(value=len(calls))

    assert twin_speed.State(path, dict(rounds=3)).get('a', measure) == dict(value=1)
    assert twin_speed.State(path, dict(rounds=3)).get('a', measure) == dict(value=1)  # continued: not measured again
    assert twin_speed.State(path, dict(rounds=2)).get('a', measure) == dict(value=2)  # other settings: measured
    state = twin_speed.State(path, dict(rounds=2))
    assert state.done == {'a': dict(value=2)}
    state.remove()
    assert not (tmp_path / 'state.json').exists()


@pytest.mark.parametrize('name', list(twin_speed.CANDIDATES))
def test_candidates_change_what_their_names_say(name):
    spec = twin_speed.CANDIDATES[name]
    assert set(spec) == set(twin_speed.BEFORE)
    base = twin_speed.BEFORE if name.startswith('before') else twin_speed.NOW
    if 'workers' in name.split(',')[0]:  # a thread and worker count
        assert spec['workers'] in (0, 1) and spec['code'] == 'new'
    else:
        assert sum(spec[key] != base[key] for key in spec) == 1
