# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints of the official Pi-NAS code (github.com/Ernie1/Pi-NAS) as pinas_mm models load them.

Three formats, told apart by their keys:

- ``supernet``: the Pi-NAS learning phase (OpenSelfSup ``PiNAS``, ``configs/pinas_learning.py``): the student
  ``encoder_q.{0,1}`` (supernet backbone, projector), the teacher ``encoder_k.{0,1}``, ``queue``, ``queue_ptr``, and
  ``backbone.*``, a second copy of ``encoder_q.0``. Becomes a :class:`PiNAS` checkpoint (``configs/pinas/supernet.py``).
- ``linear``: the linear training on the frozen supernet (OpenSelfSup ``SuperClassification``,
  ``configs/pinas_linear_training.py``): ``backbone.*`` (supernet) and ``head.fc_cls.*``. Becomes the linear probe of
  ``configs/pinas/linear_probe.py`` (mmrazor ``SPOS`` over an mmpretrain classifier).
- ``subnet``: a retrained subnet (PyTorch-Encoding ``alone_resnest50``, ``experiments/recognition/verify.py``): one
  block per layer and ``fc.*``; or such a backbone inside a segmentation model (``pretrained.*``, no ``fc``). Becomes an
  mmpretrain classifier of ``configs/pinas/pinas-cls_32xb64_in1k.py`` (``backbone.*``, ``head.fc.*``), or the
  backbone alone, which the transfer configs load. Which candidate each layer holds is read off the weights' shapes.

Backbone keys map one to one: the deep stem ``conv1.{0,1,3,4,6}``, ``bn1`` is ``stem.{0,1,2}.{conv,bn}``; a supernet
layer ``layer{s}.{b}.{c}.*`` is ``layer{s}.{b}._candidates.{c}.*``; inside a block every name is mmpretrain's
ResNeSt ``Bottleneck``'s; the shortcut ``downsample.{1,2}`` (after an average pool, which layer1 does not have here) is
``downsample.{0,1}`` in layer1 and keeps its name elsewhere.
"""
import re

from pinas_mm.structures import state_dict_mismatch

_STEM = {'conv1.0': 'stem.0.conv', 'conv1.1': 'stem.0.bn', 'conv1.3': 'stem.1.conv', 'conv1.4': 'stem.1.bn',
         'conv1.6': 'stem.2.conv', 'bn1': 'stem.2.bn'}
_SUPERNET_BLOCK = re.compile(r'^(layer\d+\.\d+)\.(\d+)\.(.+)$')  # layer1.0.3.conv1.weight
_SUBNET_BLOCK = re.compile(r'^(layer\d+\.\d+)\.([a-z].*)$')  # layer1.0.conv1.weight
_LAYER1_SHORTCUT = re.compile(r'^downsample\.([12])\.')

# what each format must hold: (key pattern, what it is), the first key that decides the format
FORMATS = {
    'supernet': [(r'^encoder_q\.0\.layer1\.0\.0\.', 'encoder_q.0 (the student supernet)'),
                 (r'^encoder_q\.1\.', 'encoder_q.1 (the student projector)'),
                 (r'^encoder_k\.0\.layer1\.0\.0\.', 'encoder_k.0 (the teacher supernet)'),
                 (r'^encoder_k\.1\.', 'encoder_k.1 (the teacher projector)'),
                 (r'^queue$', 'queue (the negatives)'), (r'^queue_ptr$', 'queue_ptr')],
    'linear': [(r'^backbone\.layer1\.0\.0\.', 'backbone.layerS.B.C (the supernet)'),
               (r'^head\.fc_cls\.weight$', 'head.fc_cls (the linear classifier)')],
    'subnet': [(r'^layer1\.0\.conv1\.weight$', 'layer1.0.conv1 (a subnet backbone, one block per layer)')],
}
# the official backbone inside other models of the official code: prefix stripped before the subnet format is read
_SUBNET_PREFIXES = ('module.', 'pretrained.')


class OfficialCheckpointError(ValueError):
    """A checkpoint that is not one of the official code's, or that does not fit the model it converts to."""


def _rename_backbone_key(key):
    """One official backbone key as pinas_mm's (supernet or subnet layer names alike)."""
    for official, ours in _STEM.items():
        if key.startswith(official + '.'):
            return ours + key[len(official):]
    match = _SUPERNET_BLOCK.match(key)
    if match:
        layer, candidate, rest = match.groups()
        prefix = f'{layer}._candidates.{candidate}.'
    else:
        match = _SUBNET_BLOCK.match(key)
        if not match:
            return key
        layer, rest = match.groups()
        prefix = f'{layer}.'
    if layer.startswith('layer1.'):  # stride 1: no average pool before the conv
        rest = _LAYER1_SHORTCUT.sub(lambda m: f'downsample.{int(m.group(1)) - 1}.', rest)
    return prefix + rest


def _rename(state_dict, prefix_map):
    """Keys under each official prefix, renamed (backbone keys mapped) under pinas_mm's prefix; others dropped."""
    out = {}
    for key, value in state_dict.items():
        for official, (ours, is_backbone) in prefix_map.items():
            if key.startswith(official):
                rest = key[len(official):]
                out[ours + (_rename_backbone_key(rest) if is_backbone else rest)] = value
                break
    return out


def detect_format(state_dict):
    """``'supernet'``, ``'linear'`` or ``'subnet'``, with the state dict the subnet format reads (prefix stripped).

    Raises :class:`OfficialCheckpointError` naming what the closest format misses."""
    state_dict = dict(state_dict)
    for prefix in _SUBNET_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            state_dict = {key[len(prefix):]: value for key, value in state_dict.items()}
    if any(key.startswith('pretrained.layer1.') for key in state_dict):  # a segmentation model: its backbone only
        state_dict = {key[len('pretrained.'):]: value for key, value in state_dict.items()
                      if key.startswith('pretrained.')}
    missing = {}
    for name, required in FORMATS.items():
        absent = [what for pattern, what in required if not any(re.search(pattern, key) for key in state_dict)]
        if not absent:
            return name, state_dict
        if len(absent) < len(required):
            missing[name] = absent
    if missing:
        name, absent = min(missing.items(), key=lambda item: len(item[1]))
        raise OfficialCheckpointError(f'not a complete official Pi-NAS {name} checkpoint: it has no '
                                      f'{", no ".join(absent)}')
    example = next(iter(state_dict), 'nothing')
    raise OfficialCheckpointError(
        'not an official Pi-NAS checkpoint: expected a supernet (encoder_q.*, encoder_k.*, queue), a linear classifier '
        f'(backbone.*, head.fc_cls.*) or a retrained subnet (conv1.*, layer1.0.conv1.*, fc.*); its first key is '
        f'{example!r}')


def supernet_to_pinas(state_dict):
    """The official learning phase's weights as :class:`PiNAS` names (student, teacher, queue); its ``backbone.*``
    copy of the student is left out."""
    return _rename(state_dict, {'encoder_q.0.': ('backbone.', True), 'encoder_q.1.': ('neck.', False),
                                'encoder_k.0.': ('encoder_k.module.0.', True),
                                'encoder_k.1.': ('encoder_k.module.1.', False),
                                'queue': ('queue', False)})  # queue and queue_ptr


def linear_to_probe(state_dict):
    """The official linear classifier on the supernet as the linear probe's names (an mmrazor SPOS algorithm)."""
    return _rename(state_dict, {'backbone.': ('architecture.backbone.', True),
                                'head.fc_cls.': ('architecture.head.fc.', False)})


def subnet_to_classifier(state_dict):
    """A retrained official subnet as an mmpretrain classifier's names: ``backbone.*`` and, with its ``fc``,
    ``head.fc.*``."""
    renamed = {}
    for key, value in state_dict.items():
        renamed['head.' + key if key.startswith('fc.') else 'backbone.' + _rename_backbone_key(key)] = value
    return renamed


def infer_subnet(backbone_state_dict, supernet):
    """The candidate of every layer of ``supernet`` (a :class:`PiNASResNeSt` supernet) whose weight names and shapes
    are those of the subnet weights ``backbone_state_dict`` (pinas_mm names, no prefix)."""
    supernet_shapes = {key: value.shape for key, value in supernet.state_dict().items()}
    subnet = []
    for layer in supernet.layer_names:
        given = {key[len(layer) + 1:]: value.shape for key, value in backbone_state_dict.items()
                 if key.startswith(layer + '.')}
        if not given:
            raise OfficialCheckpointError(f'the subnet weights have no {layer} (expected {layer}.conv1.weight, ...)')
        fitting = [choice for choice in supernet.candidate_settings
                   if {key: shape for key, shape in supernet_shapes.items()
                       if key.startswith(f'{layer}._candidates.{choice}.')} ==
                   {f'{layer}._candidates.{choice}.{key}': shape for key, shape in given.items()}]
        if len(fitting) != 1:
            found = 'no candidate' if not fitting else f'candidates {fitting} alike'
            raise OfficialCheckpointError(f'{layer}: the weights fit {found} of the space '
                                          f'{dict(supernet.candidate_settings)}')
        subnet.append(fitting[0])
    return subnet


def check_fits(converted, expected, source):
    """Refuse ``converted`` unless it has exactly the keys and shapes of ``expected`` (a model's state dict)."""
    mismatch = state_dict_mismatch(expected, converted)
    if mismatch:
        raise OfficialCheckpointError(f'{source} does not map onto the model: {mismatch}')


__all__ = ['FORMATS', 'OfficialCheckpointError', 'check_fits', 'detect_format', 'infer_subnet',
           'linear_to_probe', 'subnet_to_classifier', 'supernet_to_pinas']
