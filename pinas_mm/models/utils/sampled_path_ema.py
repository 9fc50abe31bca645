# Copyright (c) pinas_mm contributors. All rights reserved.
from mmengine.model import ExponentialMovingAverage


class SampledPathEMA(ExponentialMovingAverage):
    """A mean teacher of a supernet that moves only the parameters of the path it is updated for.

    mmengine's ``ExponentialMovingAverage`` with two differences, both those of the official Pi-NAS code:

    - ``update_parameters(model, frozen)`` leaves the averaged parameters named in ``frozen`` (the candidates the path
      did not use) as they are, so that a candidate's teacher weights follow only the steps that trained it;
    - the teacher's buffers are its own: its BN running statistics come from its own forward passes and are never
      overwritten by the student's, not even by the first update, which copies the student's parameters only
      (mmengine copies the student's buffers into the average at every update).
    """

    def update_parameters(self, model, frozen=()):
        source = dict(model.named_parameters())
        if self.steps == 0:  # the official teacher starts as a copy of the student's parameters (MoCo's init)
            for name, averaged in self.avg_parameters.items():
                averaged.data.copy_(source[name].data.to(averaged.device))
        elif self.steps % self.interval == 0:
            for name, averaged in self.avg_parameters.items():
                if name not in frozen and averaged.dtype.is_floating_point:
                    self.avg_func(averaged.data, source[name].data.to(averaged.device), self.steps)
        self.steps += 1
