# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
from mmengine.hooks import Hook

from pinas_mm.registry import HOOKS


def drop_zero_gradients(optimizer, args=None, kwargs=None):
    """Set every all-zero gradient of ``optimizer``'s parameters to None (an optimizer step pre-hook)."""
    params = [p for group in optimizer.param_groups for p in group['params'] if p.grad is not None]
    if not params:
        return
    # one norm kernel per device and dtype and one host synchronisation, instead of one per parameter
    norms = torch._foreach_norm([p.grad for p in params])
    if any(norm.dtype != norms[0].dtype for norm in norms):  # mixed dtypes: stack needs one
        norms = [norm.float() for norm in norms]
    for param, is_zero in zip(params, torch.stack(norms).eq(0).tolist()):
        if is_zero:
            param.grad = None


@HOOKS.register_module()
class ZeroGradAsNoneHook(Hook):
    """Give no optimizer update to parameters whose gradient is all zero, as the official Pi-NAS optimizer hook.

    On a fresh Pi-NAS supernet the last BN of every candidate is zero, so the branch weights before it get exactly
    zero gradients on the paths that use them; SGD would still decay them and carry momentum into them. The official
    code sets such gradients to None before each step, so SGD leaves those parameters alone, just as it leaves the
    candidates that no path used (whose gradient is None anyway). Registered as a step pre-hook of the optimizer:
    it runs after AMP's unscaling, and with gradient accumulation only on the steps that update.
    """

    def before_train(self, runner):
        runner.optim_wrapper.optimizer.register_step_pre_hook(drop_zero_gradients)
