# Copyright (c) pinas_mm contributors. All rights reserved.
"""Paths through a supernet: one choice (single-path) or a set of choices (MixPath) per searchable layer."""
import itertools

import torch
from mmrazor.models.mutables import OneShotMutableOP

from ..mutables import MixPathBottlenecks


def searchable_layers(model):
    """The supernet's searchable layers, in model order (the same order in a deep copy of it)."""
    return [m for m in model.modules() if isinstance(m, OneShotMutableOP) and not m.is_fixed]


def layer_choices(layer):
    """Every value ``layer.current_choice`` can take: its candidate names, or for a MixPath layer every sorted set of
    1 to ``max_paths`` of them."""
    if not isinstance(layer, MixPathBottlenecks):
        return list(layer.choices)
    return [combo for size in range(1, layer.max_paths + 1) for combo in itertools.combinations(layer.choices, size)]


def _layer_path_pair(layer, generator, cross_path):
    choices = layer.choices
    order = [choices[i] for i in torch.randperm(len(choices), generator=generator)]
    if not isinstance(layer, MixPathBottlenecks):
        return order[0], order[1 if cross_path else 0]
    # MixPath: how many paths first (leaving at least one candidate for the other path), then which
    max_alpha = min(layer.max_paths, len(choices) - 1 if cross_path else len(choices))
    num_alpha = int(torch.randint(1, max_alpha + 1, (), generator=generator))
    alpha = tuple(sorted(order[:num_alpha]))
    if not cross_path:
        return alpha, alpha
    rest = order[num_alpha:]
    num_beta = int(torch.randint(1, min(layer.max_paths, len(rest)) + 1, (), generator=generator))
    return alpha, tuple(sorted(rest[:num_beta]))


def sample_two_paths(layers, generator, cross_path=True):
    """Two paths ``(alpha, beta)`` that differ in every layer (Pi-NAS cross-path learning); with ``cross_path=False``
    both are the same path. ``generator`` (a ``torch.Generator``) makes the draw reproducible and equal on all
    ranks when seeded alike."""
    pairs = [_layer_path_pair(layer, generator, cross_path) for layer in layers]
    return [a for a, _ in pairs], [b for _, b in pairs]


def apply_path(layers, path):
    for layer, choice in zip(layers, path):
        layer.current_choice = choice


def unsampled_parameters(layers, *paths):
    """Parameters of candidates that none of ``paths`` uses (parameters shared with a used one are kept out)."""
    used, unused = set(), {}
    for index, layer in enumerate(layers):
        chosen = set()
        for path in paths:
            chosen.update(path[index] if isinstance(path[index], tuple) else (path[index], ))
        for name, candidate in layer._candidates.items():
            for param in candidate.parameters():
                if name in chosen:
                    used.add(id(param))
                else:
                    unused[id(param)] = param
    return [param for key, param in unused.items() if key not in used]
