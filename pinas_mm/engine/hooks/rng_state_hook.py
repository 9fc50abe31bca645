# Copyright (c) pinas_mm contributors. All rights reserved.
from mmengine.hooks import Hook

from pinas_mm.registry import HOOKS
from pinas_mm.utils.random_state import random_state, set_random_state


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
        checkpoint['rng_state'] = random_state()

    def after_load_checkpoint(self, runner, checkpoint):
        state = checkpoint.get('rng_state')
        if state is None:
            runner.logger.warning('the checkpoint holds no random generator states (saved without RNGStateHook): '
                                  'the resumed run draws other random numbers than the interrupted one')
            return
        set_random_state(state)
