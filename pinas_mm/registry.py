# Copyright (c) pinas_mm contributors. All rights reserved.
"""pinas_mm is a plugin of mmrazor: its modules are registered in mmrazor's registry nodes, under the scope
``mmrazor``.

So a config with ``default_scope = 'mmrazor'`` reaches pinas_mm's and mmrazor's modules by plain type names, and an
mmdet/mmseg/mmpretrain config reaches them as ``'mmrazor.<Type>'`` once ``custom_imports=dict(imports=['pinas_mm'])``
has imported them. (mmengine resolves ``'<scope>.<Type>'`` only for scopes that are direct children of its root
registry, so a separate ``pinas_mm`` node below mmrazor's could not be reached from other toolboxes' configs.)
More: https://mmengine.readthedocs.io/en/latest/advanced_tutorials/registry.html
"""
from mmrazor.registry import (DATA_SAMPLERS, DATASETS, HOOKS, LOOPS, METRICS, MODEL_WRAPPERS, MODELS,
                              OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS,
                              RUNNER_CONSTRUCTORS, RUNNERS, TASK_UTILS, TRANSFORMS, VISBACKENDS, VISUALIZERS,
                              WEIGHT_INITIALIZERS)

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'METRICS', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS'
]
