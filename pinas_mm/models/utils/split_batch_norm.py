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
        # slice s of consecutive images becomes channels [s*C, (s+1)*C) of one sample batch: one BN call for all
        slices = x.unflatten(0, (self.num_splits, -1)).transpose(0, 1).flatten(1, 2)
        repeat = (lambda t: None if t is None else t.repeat(self.num_splits))
        slice_stats = None
        if self.track_running_stats:
            # the call leaves each slice's mean and unbiased variance here (momentum 1), from which the whole batch's
            # follow exactly; a separate pass over the batch would cost a fifth of a CPU step
            slice_stats = (torch.zeros_like(repeat(self.running_mean)), torch.ones_like(repeat(self.running_var)))
        out = F.batch_norm(slices, *(slice_stats or (None, None)), repeat(self.weight), repeat(self.bias), True, 1.,
                           self.eps)
        if slice_stats is not None:
            self._track_whole_batch(*slice_stats, slice_size=x.numel() // (self.num_splits * channels))
        return out.unflatten(1, (self.num_splits, channels)).transpose(0, 1).flatten(0, 1)

    @torch.no_grad()
    def _track_whole_batch(self, slice_means, slice_vars, slice_size):
        """Updates the running statistics with the whole batch's, as ``nn.BatchNorm2d`` would, from equal slices'."""
        self.num_batches_tracked.add_(1)
        factor = 1. / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        slice_means = slice_means.view(self.num_splits, -1)
        slice_biased_vars = slice_vars.view(self.num_splits, -1) * ((slice_size - 1) / slice_size)
        mean = slice_means.mean(0)
        biased_var = slice_biased_vars.mean(0) + (slice_means - mean).square().mean(0)
        size = slice_size * self.num_splits
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(biased_var * (size / (size - 1)), factor)
