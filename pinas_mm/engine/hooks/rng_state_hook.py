# Copyright (c) pinas_mm contributors. All rights reserved.
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from pinas_mm.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global random generators (python, numpy, torch, CUDA) with every checkpoint and restore them on
    resume.

    mmengine restores the model, optimizer, schedulers and iteration, not these; without them a resumed run draws
    other augmentations in the main process and other shuffle-BN permutations than the run it continues. (Data
    loader workers are seeded by mmengine from the seed, rank and worker id, the same in every epoch.) Under DDP the
    checkpoint holds rank 0's generators, which are the ones that draw the shuffle-BN permutations.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['rng_state'] = dict(
            python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [])

    def after_load_checkpoint(self, runner, checkpoint):
        state = checkpoint.get('rng_state')
        if state is None:
            runner.logger.warning('the checkpoint holds no random generator states (saved without RNGStateHook): '
                                  'the resumed run draws other random numbers than the interrupted one')
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
