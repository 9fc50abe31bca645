# Copyright (c) pinas_mm contributors. All rights reserved.
import random
from contextlib import contextmanager

import numpy as np
import torch


def random_state():
    """The global random generators' states: python, numpy, torch and (where there is a GPU) CUDA."""
    return dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
                cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [])


def set_random_state(state):
    """Restore the global random generators from :func:`random_state`'s dict."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if state['cuda'] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextmanager
def preserved_random_state():
    """Within the block, draw from the global generators freely; on exit they are as they were, so a measurement
    taken during training leaves the run's random numbers (augmentations, shuffle-BN) unchanged."""
    state = random_state()
    try:
        yield
    finally:
        set_random_state(state)
