# Copyright (c) pinas_mm contributors. All rights reserved.
from .bn_calibration import recalibrated_bn
from .paths import apply_path, layer_choices, sample_two_paths, searchable_layers, unsampled_parameters
from .sampled_path_ema import SampledPathEMA
from .split_batch_norm import SplitBatchNorm2d

__all__ = [
    'SampledPathEMA', 'SplitBatchNorm2d', 'apply_path', 'layer_choices', 'recalibrated_bn', 'sample_two_paths',
    'searchable_layers', 'unsampled_parameters'
]
