# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
from mmengine.model import ExponentialMovingAverage


def _on(tensor, device):
    """``tensor`` on ``device``, without an operator call where it is there already."""
    return tensor if tensor.device == device else tensor.to(device)


class SampledPathEMA(ExponentialMovingAverage):
    """A mean teacher of a supernet that moves only the parameters of the path it is updated for.

    mmengine's ``ExponentialMovingAverage`` with two differences, both those of the official Pi-NAS code:

    - ``update_parameters(model, frozen)`` leaves the averaged parameters named in ``frozen`` (the candidates the path
      did not use) as they are, so that a candidate's teacher weights follow only the steps that trained it;
    - the teacher's buffers are its own: its BN running statistics come from its own forward passes and are never
      overwritten by the student's, not even by the first update, which copies the student's parameters only
      (mmengine copies the student's buffers into the average at every update).

    The moved parameters are averaged in one multi-tensor operation (``torch._foreach_lerp_``, the same ``lerp`` per
    tensor as mmengine's ``avg_func``, so the same numbers) instead of a Python loop over hundreds of tensors, twice a
    Pi-NAS step; a subclass that overrides ``avg_func`` gets its own function, one parameter at a time.
    """

    @torch.no_grad()
    def update_parameters(self, model, frozen=()):
        source = dict(model.named_parameters())
        if self.steps == 0:  # the official teacher starts as a copy of the student's parameters (MoCo's init)
            for name, averaged in self.avg_parameters.items():
                averaged.data.copy_(_on(source[name].data, averaged.device))
        elif self.steps % self.interval == 0:
            moved = [(averaged.data, _on(source[name].data, averaged.device))
                     for name, averaged in self.avg_parameters.items()
                     if name not in frozen and averaged.dtype.is_floating_point]
            if type(self).avg_func is not ExponentialMovingAverage.avg_func:
                for averaged, current in moved:
                    self.avg_func(averaged, current, self.steps)
            elif moved:
                averaged, current = zip(*moved)
                torch._foreach_lerp_(list(averaged), list(current), self.momentum)
        self.steps += 1
