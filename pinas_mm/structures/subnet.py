# Copyright (c) pinas_mm contributors. All rights reserved.
"""Subnets of a layer-wise search space: reading the forms users write, checking them, mapping supernet weights.

A subnet chooses, for every searchable layer, one candidate (single-path) or a non-empty set of candidates
(MixPath multi-path). Accepted forms, all normalised by :func:`parse_subnet` to one entry per layer:

- mmrazor's on-disk form (``export_fix_subnet`` + ``convert_fix_subnet``, a YAML/JSON file or its dict):
  ``{'layer1.0': {'chosen': '3'}, ...}``; names may carry a model prefix (``architecture.backbone.layer1.0``);
- a dict ``{layer_name: choice}``;
- a list with one entry per layer, in order: ``[3, 3, 3, 3, 1, ...]`` (multi-path: ``[[0, 3], [1], ...]``);
- a string of digits, one per layer: ``'3333113330011021'``, or space-separated, where a token of several digits is
  a multi-path set: ``'03 1 2 ...'``;
- a number with one digit per layer (``3333113330011021``). A number of fewer digits is refused: its leading zeros
  are lost (``03002`` as a number is ``3002``), and padding them back would guess; write it as a string.
"""
import os.path as osp
import re

from mmengine import fileio

from pinas_mm.fileio import recover_pair

_LAYER_NAME = re.compile(r'(layer\d+\.\d+)$')


class SubnetError(ValueError):
    """A subnet that does not fit the search space; the message names the layer and what was expected."""


def load_subnet(subnet):
    """Read a subnet file (YAML/JSON); other forms are returned unchanged."""
    if isinstance(subnet, str) and osp.splitext(subnet)[1] in ('.yaml', '.yml', '.json'):
        recover_pair(subnet)  # an export a crash interrupted after its commit is finished first
        if not osp.isfile(subnet):
            raise FileNotFoundError(f'subnet file {subnet} does not exist')
        return fileio.load(subnet)
    return subnet


def _entries(subnet, layer_names):
    """The raw per-layer entries of any accepted form, in ``layer_names`` order."""
    if isinstance(subnet, int) and not isinstance(subnet, bool):
        digits = str(subnet)
        if len(digits) != len(layer_names):
            raise SubnetError(
                f'subnet {subnet} is a number of {len(digits)} digits, the space has {len(layer_names)} layers '
                f'({layer_names[0]}..{layer_names[-1]}); a number loses its leading zeros: quote it, '
                f"arch='{digits.zfill(len(layer_names)) if len(digits) < len(layer_names) else digits}' in a "
                "config (pinas_mm's tools keep --cfg-options model.backbone.arch=0... a string)")
        subnet = digits
    if isinstance(subnet, str):
        tokens = subnet.split() if any(c.isspace() for c in subnet.strip()) else list(subnet.strip())
        subnet = [list(token) if len(token) > 1 else token for token in tokens]
    if isinstance(subnet, dict):
        by_layer = {}
        for name, entry in subnet.items():
            match = _LAYER_NAME.search(name)
            if match is None:
                raise SubnetError(f'subnet entry {name!r} names no searchable layer (expected names like '
                                  f'{layer_names[0]!r})')
            by_layer[match.group(1)] = entry.get('chosen') if isinstance(entry, dict) else entry
        missing = [name for name in layer_names if name not in by_layer]
        unknown = [name for name in by_layer if name not in layer_names]
        if missing or unknown:
            raise SubnetError(f'subnet layers do not match the space ({len(layer_names)} layers '
                              f'{layer_names[0]}..{layer_names[-1]}): missing {missing}, unknown {unknown}')
        return [by_layer[name] for name in layer_names]
    if isinstance(subnet, (list, tuple)):
        if len(subnet) != len(layer_names):
            raise SubnetError(f'subnet has {len(subnet)} layers, the space has {len(layer_names)} '
                              f'({layer_names[0]}..{layer_names[-1]})')
        return list(subnet)
    raise SubnetError(f'cannot read a subnet from {type(subnet).__name__}: give a YAML/JSON path, a digit string, '
                      'a list or a dict')


def parse_subnet(subnet, layer_names, choices, max_paths=1):
    """Normalise any accepted form to a list with one entry per layer of ``layer_names``.

    Each entry is a candidate name from ``choices`` (``max_paths=1``, single-path) or, for a MixPath space, a sorted
    tuple of 1 to ``max_paths`` of them. Raises :class:`SubnetError` naming the first layer that does not fit.
    """
    parsed = []
    for name, entry in zip(layer_names, _entries(load_subnet(subnet), layer_names)):
        chosen = entry if isinstance(entry, (list, tuple)) else [entry]
        chosen = [str(c) for c in chosen]
        if not chosen:
            raise SubnetError(f'layer {name}: empty set of candidates; choose at least one of {choices}')
        if len(chosen) > max_paths:
            space = 'the space is single-path (one candidate per layer)' if max_paths == 1 else \
                f'max_paths is {max_paths}'
            raise SubnetError(f'layer {name}: {len(chosen)} candidates {chosen} chosen, but {space}')
        unknown = [c for c in chosen if c not in choices]
        if unknown:
            raise SubnetError(f'layer {name}: unknown candidate {unknown[0]!r}, expected one of {choices}')
        parsed.append(tuple(sorted(set(chosen))) if max_paths > 1 else chosen[0])
    return parsed


def format_subnet(subnet):
    """The short string form: one digit per layer, multi-path sets as space-separated tokens."""
    if all(isinstance(entry, str) for entry in subnet):
        return ''.join(subnet)
    return ' '.join(''.join(entry) for entry in subnet)


def dump_subnet(subnet, layer_names, file):
    """Write a subnet in mmrazor's on-disk format (``{layer: {'chosen': ...}}``), readable by :func:`parse_subnet`."""
    fileio.dump({name: dict(chosen=list(choice) if isinstance(choice, tuple) else choice)
                 for name, choice in zip(layer_names, subnet)}, file)


def subnet_state_dict(supernet_state_dict, layer_names, subnet, prefix=''):
    """The weights of a fixed subnet, taken from a supernet's state dict.

    Supernet keys ``{prefix}layerS.B._candidates.{choice}.<param>`` of each chosen candidate become
    ``layerS.B.<param>`` (single-path) or ``layerS.B._candidates.{choice}.<param>`` (multi-path, several candidates
    stay); shared keys (stem, shortcuts) keep their names without ``prefix``. Unchosen candidates are dropped.
    Raises :class:`SubnetError` if a chosen candidate has no weights in ``supernet_state_dict``.
    """
    chosen = dict(zip(layer_names, subnet))
    out = {}
    for key, value in supernet_state_dict.items():
        if not key.startswith(prefix):
            continue
        key = key[len(prefix):]
        layer, sep, rest = key.partition('._candidates.')
        if not sep:
            out[key] = value
            continue
        choice, _, param = rest.partition('.')
        layer_choice = chosen.get(layer)
        if layer_choice is None:
            raise SubnetError(f'supernet weight {prefix}{key} belongs to no layer of the space')
        if isinstance(layer_choice, str):
            if choice == layer_choice:
                out[f'{layer}.{param}'] = value
        elif choice in layer_choice:
            out[key] = value
    for layer, layer_choice in chosen.items():
        for choice in ([layer_choice] if isinstance(layer_choice, str) else layer_choice):
            if not any(k.startswith(f'{prefix}{layer}._candidates.{choice}.') for k in supernet_state_dict):
                raise SubnetError(f'layer {layer}: the supernet weights have no candidate {choice!r} '
                                  f'(looked for {prefix}{layer}._candidates.{choice}.*)')
    return out


def state_dict_mismatch(expected, given):
    """Why ``given`` cannot load strictly into a model whose state dict is ``expected``, or None if it can:
    the counts of weights of another shape, missing and unexpected, and the first of them by name."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    reshaped = [key for key in expected if key in given and given[key].shape != expected[key].shape]
    if not (missing or unexpected or reshaped):
        return None
    first = (reshaped or missing or unexpected)[0]
    detail = f'{first}: {tuple(given[first].shape)} there, {tuple(expected[first].shape)} here' if reshaped else first
    return f'{len(reshaped)} weights of another shape, {len(missing)} missing, {len(unexpected)} unexpected; ' \
           f'first: {detail}'
