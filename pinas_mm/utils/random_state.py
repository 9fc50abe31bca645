# Copyright (c) pinas_mm contributors. All rights reserved.
import random
from contextlib import contextmanager

import numpy as np
import torch


def random_state(cuda=True):
    """The global random generators' states: python, numpy, torch and (where there is a GPU and ``cuda``) CUDA."""
    return dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
                cuda=torch.cuda.get_rng_state_all() if cuda and torch.cuda.is_available() else [])


def set_random_state(state):
    """Restore the global random generators from :func:`random_state`'s dict."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if state['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextmanager
def preserved_random_state(cuda=True):
    """Within the block, draw from the global generators freely; on exit they are as they were, so a measurement
    taken during training leaves the run's random numbers (augmentations, shuffle-BN) unchanged. ``cuda=False``
    leaves CUDA's generators alone (and uninitialised, as a forked data-loader worker needs)."""
    state = random_state(cuda)
    try:
        yield
    finally:
        set_random_state(state)


@contextmanager
def seeded_random_state(seed):
    """Within the block, python's, numpy's and torch's (CPU) global generators start from ``seed``; on exit they are
    as they were. CUDA's are not touched: data pipelines draw on the CPU."""
    with preserved_random_state(cuda=False):
        random.seed(seed)
        np.random.seed(seed)
        torch.random.default_generator.manual_seed(seed)
        yield
