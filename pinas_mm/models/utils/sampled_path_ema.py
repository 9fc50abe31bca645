# Copyright (c) pinas_mm contributors. All rights reserved.
from mmengine.model import ExponentialMovingAverage


class SampledPathEMA(ExponentialMovingAverage):
    """A mean teacher of a supernet that moves only what the step trained.

    mmengine's ``ExponentialMovingAverage`` with one addition: ``update_parameters(model, frozen)`` leaves the
    averaged parameters named in ``frozen`` (the candidates no sampled path used) as they are, so that a candidate's
    teacher weights follow only the steps that trained it. The first update copies everything, as mmengine's does.
    """

    def update_parameters(self, model, frozen=()):
        if self.steps == 0 or not frozen:
            return super().update_parameters(model)
        all_parameters = self.avg_parameters
        self.avg_parameters = {name: p for name, p in all_parameters.items() if name not in frozen}
        try:
            super().update_parameters(model)
        finally:
            self.avg_parameters = all_parameters
