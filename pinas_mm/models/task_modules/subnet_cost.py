# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
from mmengine.analysis import FlopAnalyzer

from ..mutables import MixPathBottlenecks
from ..utils import layer_choices, searchable_layers


def _layer_parameters(layer, choice):
    """The parameters a fixed subnet keeps for ``layer`` with ``choice``: the chosen candidate(s) and, for a MixPath
    layer, its shortcut and shadow BNs (a single-path candidate holds the shared shortcut itself)."""
    modules = [layer._candidates[name] for name in (choice if isinstance(choice, tuple) else (choice, ))]
    if isinstance(layer, MixPathBottlenecks):
        modules += [m for m in (layer.downsample, layer.shadow_bns) if m is not None]
    return {id(p): p.numel() for module in modules for p in module.parameters()}


class SubnetCostTable:
    """MACs and parameters of every subnet of a supernet backbone, from one measurement per (layer, choice).

    The layers of a subnet are independent given the input size, so a subnet's cost is the fixed part (stem,
    shortcuts) plus the sum over layers of the chosen candidate's cost. Measuring each (layer, choice) once with
    mmengine's ``FlopAnalyzer`` makes every later lookup exact and free, which the search needs: it checks
    constraints on thousands of candidates, most of them rejected before they are ever scored.

    Figures are in millions and count one MAC per multiply-accumulate, as ``tools/get_flops.py`` and mmrazor's
    ``ResourceEstimator`` (its ``flops``) do.

    Args:
        backbone (nn.Module): A supernet backbone (``PiNASResNeSt`` without ``arch``); it is measured in eval mode on
            CPU and left as it was.
        input_shape (tuple): ``(C, H, W)`` of one image. Default: ``(3, 224, 224)``.
    """

    def __init__(self, backbone, input_shape=(3, 224, 224)):
        self.input_shape = tuple(input_shape)
        layers = searchable_layers(backbone)
        if not layers:
            raise TypeError(f'{type(backbone).__name__} has no searchable layers: a supernet is needed')
        self.layer_choices = [layer_choices(layer) for layer in layers]
        was_training, device = backbone.training, next(backbone.parameters()).device
        saved_choices = [layer.current_choice for layer in layers]
        inputs = {}
        handles = [layer.register_forward_pre_hook(lambda m, args, i=i: inputs.setdefault(i, args[0]))
                   for i, layer in enumerate(layers)]
        reference = [choices[0] for choices in self.layer_choices]
        try:
            backbone.eval()
            for layer, choice in zip(layers, reference):
                layer.current_choice = choice
            with torch.no_grad():
                image = torch.zeros((1, ) + self.input_shape, device=device)
                total_macs = self._macs(backbone, image)  # also records every layer's input
            self.macs, self.params = [], []
            for index, layer in enumerate(layers):
                layer_macs, layer_params = {}, {}
                for choice in self.layer_choices[index]:
                    layer.current_choice = choice
                    layer_macs[choice] = self._macs(layer, inputs[index])
                    layer_params[choice] = sum(_layer_parameters(layer, choice).values())
                self.macs.append(layer_macs)
                self.params.append(layer_params)
        finally:
            for handle in handles:
                handle.remove()
            for layer, choice in zip(layers, saved_choices):
                layer.current_choice = choice
            backbone.train(was_training)
        searchable = {id(p) for layer in layers for p in layer.parameters()}
        self.fixed_params = sum(p.numel() for p in backbone.parameters() if id(p) not in searchable)
        self.fixed_macs = total_macs - sum(layer_macs[c] for layer_macs, c in zip(self.macs, reference))

    @staticmethod
    def _macs(module, inputs):
        analyzer = FlopAnalyzer(module, inputs)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return analyzer.total()

    def __call__(self, subnet):
        """``dict(flops=MACs, params=parameters)`` of ``subnet`` (one choice per layer), both in millions."""
        if len(subnet) != len(self.macs):
            raise ValueError(f'the subnet has {len(subnet)} layers, the supernet {len(self.macs)}')
        macs = self.fixed_macs + sum(layer[choice] for layer, choice in zip(self.macs, subnet))
        params = self.fixed_params + sum(layer[choice] for layer, choice in zip(self.params, subnet))
        return dict(flops=macs / 1e6, params=params / 1e6)

    def bounds(self):
        """The smallest and largest cost over the whole space, per figure: ``{'flops': (lo, hi), ...}``."""
        def extreme(table, fixed, pick):
            return (fixed + sum(pick(layer.values()) for layer in table)) / 1e6

        return dict(flops=(extreme(self.macs, self.fixed_macs, min), extreme(self.macs, self.fixed_macs, max)),
                    params=(extreme(self.params, self.fixed_params, min),
                            extreme(self.params, self.fixed_params, max)))
