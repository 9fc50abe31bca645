# Copyright (c) pinas_mm contributors. All rights reserved.
from .bn_calibration import kept_bn_statistics, recalibrated_bn, tracked_bns
from .paths import apply_path, layer_choices, sample_two_paths, searchable_layers, unsampled_parameters
from .sampled_path_ema import SampledPathEMA
from .split_batch_norm import SplitBatchNorm2d

__all__ = [
    'SampledPathEMA', 'SplitBatchNorm2d', 'apply_path', 'kept_bn_statistics', 'layer_choices', 'recalibrated_bn',
    'sample_two_paths', 'searchable_layers', 'tracked_bns', 'unsampled_parameters'
]
