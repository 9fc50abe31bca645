# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
from mmengine.hooks import Hook
from torch.utils.data import DataLoader

from pinas_mm.registry import HOOKS
from pinas_mm.utils.random_state import random_state, set_random_state


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the global random generators (python, numpy, torch, CUDA) with every checkpoint and restore them on
    resume.

    mmengine restores the model, optimizer, schedulers and iteration, not these; without them a resumed run draws
    other augmentations in the main process and other shuffle-BN permutations than the run it continues. (Data
    loader workers keep generators of their own, which no checkpoint holds: the configs draw each image's
    augmentations from a seed of its own instead, ``SeededAugmentSampler``.) Under DDP the checkpoint holds rank 0's
    generators, which are the ones that draw the shuffle-BN permutations.

    The training data loader gets a generator of its own: a DataLoader draws its workers' base seed from torch's
    global generator whenever it starts iterating, every epoch without persistent workers but only in a process's
    first epoch with them, so a run resumed with persistent workers would draw once more than the run it continues,
    and persistent workers would give the model other random numbers than fresh ones or none. (mmengine's
    ``worker_init_fn`` seeds the workers itself.)
    """
    priority = 'VERY_LOW'

    def before_train(self, runner):
        dataloader = getattr(runner.train_loop, 'dataloader', None)
        if isinstance(dataloader, DataLoader) and dataloader.generator is None:
            dataloader.generator = torch.Generator()

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['rng_state'] = random_state()

    def after_load_checkpoint(self, runner, checkpoint):
        state = checkpoint.get('rng_state')
        if state is None:
            runner.logger.warning('the checkpoint holds no random generator states (saved without RNGStateHook): '
                                  'the resumed run draws other random numbers than the interrupted one')
            return
        set_random_state(state)
