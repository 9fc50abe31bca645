# Copyright (c) pinas_mm contributors. All rights reserved.
from .paths import apply_path, sample_two_paths, searchable_layers, unsampled_parameters
from .sampled_path_ema import SampledPathEMA

__all__ = ['SampledPathEMA', 'apply_path', 'sample_two_paths', 'searchable_layers', 'unsampled_parameters']
