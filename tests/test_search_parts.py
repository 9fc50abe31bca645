# Copyright (c) pinas_mm contributors. All rights reserved.
"""The parts of the search: exact subnet costs, BN recalibration that leaves the supernet as it was, the scores,
NSGA-II selection."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from pinas_mm.engine.runner.pareto import crowding_distance, non_dominated_sort, nsga2_select
from pinas_mm.engine.runner.search_loop import build_score
from pinas_mm.models.task_modules import (AccuracyScore, AlignmentUniformityScore, ContrastiveScore, KNNScore,
                                          SubnetCostTable)
from pinas_mm.models.utils import recalibrated_bn
from pinas_mm.registry import MODELS

SCALED = dict(stage_blocks=(1, 1, 2, 1), stem_channels=16, base_channels=16)


def build(**kwargs):
    init_default_scope('mmrazor')
    return MODELS.build(dict(type='PiNASResNeSt', **SCALED, **kwargs))


@pytest.mark.parametrize('max_paths', [1, 2])
def test_cost_table_equals_counting_the_fixed_subnet(max_paths):
    table = SubnetCostTable(build(max_paths=max_paths), input_shape=(3, 32, 32))
    rng = np.random.default_rng(0)
    for _ in range(3):
        subnet = [choices[rng.integers(len(choices))] for choices in table.layer_choices]
        fixed = build(max_paths=max_paths, arch=[list(c) if isinstance(c, tuple) else c for c in subnet])
        fixed.eval()
        counted = get_model_complexity_info(fixed, input_shape=(3, 32, 32), show_table=False, show_arch=False)
        cost = table(subnet)
        assert cost['flops'] == pytest.approx(counted['flops'] / 1e6, rel=1e-12)
        assert cost['params'] == pytest.approx(counted['params'] / 1e6, rel=1e-12)
        bounds = table.bounds()
        assert all(bounds[key][0] <= cost[key] <= bounds[key][1] for key in cost)
    if max_paths == 2:  # sets of two candidates cost more than either alone
        assert table.macs[0][('0', '1')] > max(table.macs[0][('0', )], table.macs[0][('1', )])


def test_bn_recalibration_measures_the_images_and_restores_the_supernet():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Dropout(0.5))
    net.train()
    net[1].running_mean.fill_(3.)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    images = [torch.randn(8, 3, 4, 4) + i for i in range(3)]
    with recalibrated_bn([net], images):
        assert not net.training and not net[2].training  # no dropout while scoring
        with torch.no_grad():
            batch_means = [net[0](x).mean(dim=(0, 2, 3)) for x in images]
            batch_vars = [net[0](x).var(dim=(0, 2, 3), unbiased=True) for x in images]
        torch.testing.assert_close(net[1].running_mean, torch.stack(batch_means).mean(0))  # equal weight per batch
        torch.testing.assert_close(net[1].running_var, torch.stack(batch_vars).mean(0))
    assert net.training and net[1].momentum == 0.1
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_bn_recalibration_restores_even_when_scoring_fails():
    net = nn.Sequential(nn.BatchNorm2d(2))
    before = net[0].running_var.clone()
    with pytest.raises(RuntimeError), recalibrated_bn([net], [torch.randn(4, 2, 3, 3) * 5]):
        raise RuntimeError('scoring failed')
    assert torch.equal(net[0].running_var, before) and net[0].momentum == 0.1


def test_nsga2_fronts_crowding_and_selection():
    # (minimise, minimise): 0, 1, 2 are the front; 3 is dominated by 1; 4 by everything
    points = [(0, 4), (1, 1), (4, 0), (2, 2), (5, 5)]
    assert non_dominated_sort(points) == [[0, 1, 2], [3], [4]]
    assert crowding_distance([points[i] for i in (0, 1, 2)])[1] == pytest.approx(2.)  # ends are infinite
    assert nsga2_select(points, 4) == [0, 1, 2, 3]
    assert sorted(nsga2_select(points, 2)) == [0, 2]  # the front is cut by crowding: its ends survive


class PooledIdentity(nn.Module):
    """A 'backbone' whose pooled features are its input: scores can be checked by hand."""

    def forward(self, x):
        return (x, )


def batch(images, labels=None):
    samples = [DataSample().set_gt_label(int(label)) for label in labels] if labels is not None else []
    return dict(inputs=images, data_samples=samples)


def test_knn_score_votes_with_the_nearest_labelled_bank_images():
    model = nn.Module()
    model.backbone = PooledIdentity()
    bank_features = torch.tensor([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9]])[..., None, None]
    score = KNNScore(bank_dataloader=None, k=2)
    score.prepare(model, lambda cfg, n: [batch(bank_features, [0, 0, 1, 1])])
    queries = torch.tensor([[1., 0.05], [0.05, 1.], [1., 0.]])[..., None, None]
    assert score(model, [batch(queries, [0, 1, 1])]) == pytest.approx(200 / 3)  # the third is misfiled


def test_alignment_uniformity_score_prefers_aligned_spread_features():
    model = nn.Module()
    model.backbone = PooledIdentity()
    spread = torch.eye(4)[..., None, None]
    score = AlignmentUniformityScore()
    aligned = score(model, [batch([spread, spread])])
    assert aligned == pytest.approx(4.)  # alignment 0; every pair at squared distance 2: uniformity log(e^-4)
    assert score(model, [batch([spread, spread.roll(1, dims=0)])]) < aligned
    with pytest.raises(ValueError, match='2 views'):
        score(model, [batch(spread)])


def test_contrastive_score_is_the_pinas_loss_of_the_path(pinas_model):
    torch.manual_seed(0)
    views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
    model = pinas_model
    model.eval()
    score = ContrastiveScore()
    score.prepare(model, None)
    with torch.no_grad():
        query = nn.functional.normalize(model.neck(model.backbone(views[0]))[0], dim=1)
        key = nn.functional.normalize(model.encoder_k.module(views[1])[0], dim=1)
        expected = -float(model.contrastive_loss(query, key))
        assert score(model, [batch(views)]) == pytest.approx(expected)
    with pytest.raises(TypeError, match='classification head'):
        AccuracyScore().prepare(model, None)


def test_unknown_score_names_the_registered_ones():
    with pytest.raises(KeyError, match="'KNNScore'"):
        build_score(dict(type='KNNScor'))
    with pytest.raises(TypeError, match='PiNAS supernet'):
        build_score(dict(type='ContrastiveScore')).prepare(nn.Module(), None)


def test_full_size_costs_match_the_papers_figures():
    """ResNeSt-50 (candidate 1 everywhere): 27.48 M params and 5.40 G MACs with its 1000-class fc (DESIGN §2), which
    the backbone-only table leaves out (2.049 M params, 2.048 M MACs)."""
    init_default_scope('mmrazor')
    table = SubnetCostTable(MODELS.build(dict(type='PiNASResNeSt')))
    resnest50 = table(['1'] * 16)
    assert resnest50['params'] + 2.049 == pytest.approx(27.483, abs=1e-3)
    assert resnest50['flops'] + 2.048 == pytest.approx(5402, abs=1)
    assert 5150 < table.bounds()['flops'][0] < table.bounds()['flops'][1] < 5650  # near iso-FLOPs space
