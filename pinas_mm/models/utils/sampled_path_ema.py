# Copyright (c) pinas_mm contributors. All rights reserved.
from mmengine.model import ExponentialMovingAverage


class SampledPathEMA(ExponentialMovingAverage):
    """A mean teacher of a supernet that moves only the parameters of the path it is updated for.

    mmengine's ``ExponentialMovingAverage`` with two differences, both those of the official Pi-NAS code:

    - ``update_parameters(model, frozen)`` leaves the averaged parameters named in ``frozen`` (the candidates the path
      did not use) as they are, so that a candidate's teacher weights follow only the steps that trained it;
    - after the first update, which copies the student whole as mmengine's does, the teacher's buffers are its own:
      its BN running statistics come from its own forward passes and are never overwritten by the student's
      (mmengine copies the student's buffers into the average at every update).
    """

    def update_parameters(self, model, frozen=()):
        if self.steps == 0:
            return super().update_parameters(model)
        if self.steps % self.interval == 0:
            source = dict(model.named_parameters())
            for name, averaged in self.avg_parameters.items():
                if name not in frozen and averaged.dtype.is_floating_point:
                    self.avg_func(averaged.data, source[name].data.to(averaged.device), self.steps)
        self.steps += 1
