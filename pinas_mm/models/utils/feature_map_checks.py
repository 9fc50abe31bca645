# Copyright (c) pinas_mm contributors. All rights reserved.
"""A dense-prediction neck or head given too few feature maps names the backbone's ``out_indices``.

A backbone replaced in a config with ``_delete_=True`` gets its own defaults; mmpretrain's ResNet (and
:class:`~pinas_mm.models.backbones.PiNASResNeSt`) return only the last stage, ``out_indices=(3,)``, the classification
default, where mmdet's FPN and mmseg's decode heads take four. Upstream that ends in ``assert len(inputs) ==
len(self.in_channels)`` deep in FPN, or an IndexError in mmseg's ``_transform_inputs``. Only the neck or head knows
how many maps it needs, so the check wraps their methods. :class:`~pinas_mm.models.backbones.PiNASResNeSt` installs it
when built, for the toolboxes already imported then (the registry has imported mmdet's / mmseg's models before it
builds the detector or segmentor around the backbone): ``import pinas_mm`` itself never imports mmdet or mmseg,
whose models need mmcv's compiled ops. Site-packages stay untouched.
"""
import functools
import sys

__all__ = ['check_head_inputs', 'check_neck_inputs', 'install_feature_map_checks']


def _set_out_indices(count):
    return f"set the backbone's out_indices={tuple(range(count))}"


def check_neck_inputs(neck, inputs):
    """Raise ``ValueError`` unless ``inputs`` holds one feature map per entry of the neck's ``in_channels``."""
    expected = len(neck.in_channels)
    if not isinstance(inputs, (list, tuple)) or len(inputs) == expected:
        return  # not a sequence of maps: left to the neck
    hint = _set_out_indices(expected) if len(inputs) < expected else \
        f"the backbone's out_indices must pick {expected} stages, one per in_channels entry"
    raise ValueError(f'{type(neck).__name__} expects {expected} feature maps (in_channels={list(neck.in_channels)}) '
                     f'but the backbone returned {len(inputs)}: {hint}')


def check_head_inputs(head, inputs):
    """Raise ``ValueError`` unless ``inputs`` holds every feature map the head's ``in_index`` reads."""
    if not isinstance(inputs, (list, tuple)):
        return  # not a sequence of maps: left to the head
    indices = head.in_index if isinstance(head.in_index, (list, tuple)) else [head.in_index]
    needed = max(index + 1 if index >= 0 else -index for index in indices)
    if len(inputs) < needed:
        raise ValueError(f'{type(head).__name__} reads feature map {head.in_index} (in_index) but got {len(inputs)} '
                         f'feature maps: {_set_out_indices(needed)}')


# (module, class, method, check): the FPN necks of mmdet and mmseg, and the base of every mmseg decode head
CHECKED_METHODS = (
    ('mmdet.models.necks.fpn', 'FPN', 'forward', check_neck_inputs),
    ('mmdet.models.necks.pafpn', 'PAFPN', 'forward', check_neck_inputs),
    ('mmseg.models.necks.fpn', 'FPN', 'forward', check_neck_inputs),
    ('mmseg.models.decode_heads.decode_head', 'BaseDecodeHead', '_transform_inputs', check_head_inputs),
)


def _checked(method, check):
    @functools.wraps(method)
    def checked(self, inputs, *args, **kwargs):
        check(self, inputs)
        return method(self, inputs, *args, **kwargs)

    checked.checks_feature_maps = True
    return checked


def install_feature_map_checks():
    """Wrap each method of :data:`CHECKED_METHODS` whose module is imported with its check; idempotent."""
    for module, cls_name, method_name, check in CHECKED_METHODS:
        if module not in sys.modules:
            continue
        cls = getattr(sys.modules[module], cls_name)
        method = cls.__dict__[method_name]
        if not getattr(method, 'checks_feature_maps', False):
            setattr(cls, method_name, _checked(method, check))
