# Copyright (c) pinas_mm contributors. All rights reserved.
import numpy as np
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmrazor.models.mutables import OneShotMutableOP

from pinas_mm.registry import MODELS


def residual_branch(block, x):
    """mmpretrain's ResNeSt ``Bottleneck`` without its shortcut and final ReLU: the part MixPath sums."""
    out = block.relu(block.norm1(block.conv1(x)))
    out = block.conv2(out)
    if block.avg_down_stride:
        out = block.avd_layer(out)
    return block.norm3(block.conv3(out))


@MODELS.register_module()
class MixPathBottlenecks(OneShotMutableOP):
    """A residual layer that runs several of its bottleneck candidates at once, as in MixPath.

    `MixPath: A Unified Approach for One-shot Neural Architecture Search <https://arxiv.org/abs/2001.05887>`_.
    The residual branches of the chosen candidates are summed and normalised by a Shadow BN, one BN per number of
    active paths (sums of one and of two paths have different statistics, which a shared BN would mix up):
    ``relu(shortcut(x) + shadow_bns[k - 1](sum of the k branches))``. A choice is a sorted tuple of candidate names;
    :meth:`sample_choice` draws ``k`` uniformly from ``1..max_paths``, then ``k`` distinct candidates.

    Args:
        candidates (nn.ModuleDict): mmpretrain ResNeSt ``Bottleneck`` blocks built without a shortcut.
        out_channels (int): Channels of the layer's output.
        max_paths (int): Most candidates active at once (MixPath's m).
        downsample (nn.Module, optional): The shortcut shared by all candidates; None for identity.
        norm_cfg (dict): Config of the shadow BNs. Default: ``dict(type='BN')``.
        **kwargs: ``OneShotMutableOP`` arguments (``alias``, ``init_cfg``).
    """

    def __init__(self, candidates, out_channels, max_paths, downsample=None, norm_cfg=dict(type='BN'), **kwargs):
        super().__init__(candidates, **kwargs)
        self.out_channels = out_channels
        self.max_paths = max_paths
        self.downsample = downsample
        self.shadow_bns = nn.ModuleList(build_norm_layer(norm_cfg, out_channels)[1] for _ in range(max_paths))
        self.relu = nn.ReLU(inplace=True)

    def forward_choice(self, x, choice):
        branches = sum(residual_branch(self._candidates[name], x) for name in choice)
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(identity + self.shadow_bns[len(choice) - 1](branches))

    def forward_fixed(self, x):
        return self.forward_choice(x, self._chosen)

    def forward_all(self, x):
        raise RuntimeError(f'a MixPath layer runs at most {self.max_paths} candidates: set current_choice first')

    def sample_choice(self):
        num_paths = np.random.randint(1, self.max_paths + 1)
        return tuple(sorted(str(name) for name in np.random.choice(self.choices, num_paths, replace=False)))

    def fix_chosen(self, chosen):
        """Keep only the ``chosen`` candidates (and every shadow BN, so that supernet weights map one to one)."""
        if self.is_fixed:
            raise AttributeError('this MixPath layer is fixed already')
        chosen = tuple(sorted(chosen))
        for name in self.choices:
            if name not in chosen:
                self._candidates.pop(name)
        self._chosen = chosen
        self.is_fixed = True

    def export_chosen(self):
        assert self.current_choice is not None, 'no choice set'
        return list(self.current_choice)  # a list: plain YAML in exported subnets
