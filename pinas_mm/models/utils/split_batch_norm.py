# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmengine.registry import MODELS


# registered where mmcv registers its norm layers ('BN', 'SyncBN', ...), so that norm_cfg=dict(type='SplitBN') builds
# in every scope (pinas_mm's, mmpretrain's, mmdet's) and without one
@MODELS.register_module('SplitBN')
class SplitBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm whose training-mode statistics come from ``num_splits`` equal slices of the batch, as if each slice
    ran on its own GPU.

    MoCo's shuffle-BN keeps a key from sharing batch statistics with its query, which otherwise leak which images
    belong together (the BN "cheat"). It shuffles the keys across GPUs, so on a single process it changes nothing.
    With this layer (``norm_cfg=dict(type='SplitBN', num_splits=8)``) a single process normalises each slice of
    consecutive images on its own statistics like one of ``num_splits`` ranks, and the teacher's in-batch shuffle
    puts other images together than the student's slices, which restores shuffle-BN (MoCo's CIFAR-10 demo does the
    same). The running statistics are those of the whole batch, as a plain BN keeps them, so evaluation, export and
    BN recalibration see an ordinary BN; the state dict is a ``BatchNorm2d``'s.

    Args:
        num_features (int): Channels.
        num_splits (int): Slices of every training batch; the batch size must be a multiple of it.
        **kwargs: ``nn.BatchNorm2d`` arguments (``eps``, ``momentum``, ...).
    """

    def __init__(self, num_features, num_splits, **kwargs):
        super().__init__(num_features, **kwargs)
        if num_splits < 1:
            raise ValueError(f'num_splits must be at least 1, got {num_splits}')
        self.num_splits = num_splits

    def forward(self, x):
        if not self.training or self.num_splits == 1:
            return super().forward(x)
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
        # slice s of consecutive images becomes channels [s*C, (s+1)*C) of one sample batch: one BN call for all
        slices = x.unflatten(0, (self.num_splits, -1)).transpose(0, 1).flatten(1, 2)
        repeat = (lambda t: None if t is None else t.repeat(self.num_splits))
        out = F.batch_norm(slices, None, None, repeat(self.weight), repeat(self.bias), True, 0., self.eps)
        return out.unflatten(1, (self.num_splits, channels)).transpose(0, 1).flatten(0, 1)
