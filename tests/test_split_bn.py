# Copyright (c) pinas_mm contributors. All rights reserved.
"""SplitBN: on one process, each slice of a training batch is normalised as one rank's batch would be; what it keeps
(running statistics, state dict) is a plain BatchNorm's."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from pinas_mm.models.utils import SplitBatchNorm2d


def test_each_slice_is_normalised_on_its_own_statistics_as_on_its_own_rank():
    torch.manual_seed(0)
    split = SplitBatchNorm2d(3, num_splits=4)
    with torch.no_grad():
        split.weight.uniform_(0.5, 2)
        split.bias.uniform_(-1, 1)
    plain = nn.BatchNorm2d(3)
    plain.load_state_dict({k: v for k, v in split.state_dict().items()})
    images = torch.randn(16, 3, 5, 5) * torch.arange(1, 17.).view(16, 1, 1, 1)  # slices with other statistics
    per_rank = torch.cat([nn.functional.batch_norm(chunk, None, None, plain.weight, plain.bias, True)
                          for chunk in images.chunk(4)])
    torch.testing.assert_close(split(images), per_rank)
    assert not torch.allclose(per_rank, plain(images), atol=1e-3)  # a plain BN would share the whole batch's


@pytest.mark.parametrize('num_splits,momentum', [(2, None), (4, 0.1), (8, 0.5)])
def test_running_statistics_and_evaluation_are_a_plain_batchnorms(num_splits, momentum):
    """The running statistics are the whole batch's, combined from the slices' (no pass of their own)."""
    torch.manual_seed(0)
    split = SplitBatchNorm2d(3, num_splits=num_splits, momentum=momentum)
    plain = nn.BatchNorm2d(3, momentum=momentum)
    for _ in range(3):
        # slices with other means and spreads, so that the between-slice part of the variance matters
        images = torch.randn(16, 3, 4, 4) * torch.linspace(1, 4, 16).view(16, 1, 1, 1) + torch.arange(16.).view(
            16, 1, 1, 1)
        split(images), plain(images)
    for name, value in plain.state_dict().items():  # BN recalibration's cumulative average included
        torch.testing.assert_close(split.state_dict()[name], value, msg=name)
    split.eval(), plain.eval()
    images = torch.randn(5, 3, 4, 4)  # evaluation: any batch size
    torch.testing.assert_close(split(images), plain(images))


def test_without_running_statistics_it_normalises_the_same_slices():
    torch.manual_seed(0)
    split = SplitBatchNorm2d(3, num_splits=4, track_running_stats=False)
    images = torch.randn(8, 3, 2, 2)
    per_rank = torch.cat([nn.functional.batch_norm(chunk, None, None, split.weight, split.bias, True)
                          for chunk in images.chunk(4)])
    torch.testing.assert_close(split(images), per_rank)
    assert split.running_mean is None


def test_a_batch_that_does_not_split_is_refused_with_the_sizes():
    with pytest.raises(ValueError, match='num_splits=4 got a batch of 6 images'):
        SplitBatchNorm2d(3, num_splits=4)(torch.randn(6, 3, 2, 2))


@pytest.mark.parametrize('scope', ['mmrazor', 'mmpretrain', None])
def test_norm_cfg_builds_it_by_name_in_any_scope(scope):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(scope):
        name, layer = build_norm_layer(dict(type='SplitBN', num_splits=8), 16)
    assert name == 'bn' and isinstance(layer, SplitBatchNorm2d) and layer.num_splits == 8
