# Copyright (c) pinas_mm contributors. All rights reserved.
"""A hook for tests/test_distributed.py, imported by the trained processes: it records, at every optimizer step,
the two sampled paths and the gradients of the candidates they did not use, and at the end a digest of each
tensor of the model's state, into work_dir/rank<N>.json."""
import hashlib
import json
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pinas_mm.models.utils import unsampled_parameters
from pinas_mm.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):

    def before_train(self, runner):
        self.model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.steps = []
        runner.optim_wrapper.optimizer.register_step_pre_hook(self._record_step)

    def _record_step(self, optimizer, args, kwargs):
        alpha, beta = self.model.last_paths
        grads = {'none' if p.grad is None else 'zero' if not p.grad.any() else 'nonzero'
                 for p in unsampled_parameters(self.model.student_layers, alpha, beta)}
        self.steps.append(dict(paths=[list(map(str, alpha)), list(map(str, beta))], unsampled_grads=sorted(grads)))

    def after_train(self, runner):
        digest = {key: hashlib.sha1(value.detach().cpu().numpy().tobytes()).hexdigest()
                  for key, value in self.model.state_dict().items() if torch.is_tensor(value)}
        with open(osp.join(runner.work_dir, f'rank{runner.rank}.json'), 'w') as f:
            json.dump(dict(steps=self.steps, digest=digest), f)
