# Copyright (c) pinas_mm contributors. All rights reserved.
from .learning_monitor_hook import LearningMonitorHook
from .pinas_check_hook import PiNASCheckHook
from .rng_state_hook import RNGStateHook
from .zero_grad_as_none_hook import ZeroGradAsNoneHook

__all__ = ['LearningMonitorHook', 'PiNASCheckHook', 'RNGStateHook', 'ZeroGradAsNoneHook']
