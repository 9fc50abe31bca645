# Copyright (c) pinas_mm contributors. All rights reserved.
"""Turn a trained supernet checkpoint into a standalone subnet backbone that other toolboxes load as pretrained."""
import copy
import re

import torch
from mmengine.registry import init_default_scope

from pinas_mm.registry import MODELS
from pinas_mm.structures import SubnetError, format_subnet, subnet_state_dict
from pinas_mm.version import __version__

_SUPERNET_KEY = re.compile(r'^(.*)layer1\.0\._candidates\.')


def find_backbone_cfg(model_cfg):
    """The backbone config of a model config: an mmrazor algorithm's ``architecture.backbone``, a Pi-NAS algorithm's
    or an mmdet/mmseg/mmpretrain model's ``backbone``."""
    for path in (('architecture', 'backbone'), ('backbone', )):
        cfg = model_cfg
        for key in path:
            cfg = cfg.get(key) if isinstance(cfg, dict) else None
        if isinstance(cfg, dict):
            return cfg
    raise KeyError(f'no backbone in the model config (type {model_cfg.get("type")}): expected model.backbone or '
                   'model.architecture.backbone')


def find_supernet_prefix(state_dict):
    """The key prefix of the supernet backbone in a checkpoint (``architecture.backbone.`` for SPOS, ...).

    A Pi-NAS checkpoint holds the student (``backbone.``) and its EMA teacher (``encoder_k.``); the student is taken,
    as mmpretrain's MoCo exports its query encoder (the teacher with ``--prefix encoder_k.module.0.``).
    """
    prefixes = sorted({m.group(1) for m in map(_SUPERNET_KEY.match, state_dict) if m})
    students = [p for p in prefixes if not p.startswith('encoder_k.')]
    if len(students) != 1:
        found = f'several ({prefixes})' if prefixes else 'none (no "*layer1.0._candidates.*" keys)'
        raise SubnetError(f'expected one Pi-NAS supernet backbone in the checkpoint, found {found}; '
                          + ('choose one with --prefix' if prefixes else 'is it a supernet checkpoint?'))
    return students[0]


def export_subnet(backbone_cfg, supernet_state_dict, subnet, prefix=None):
    """Build the fixed ``subnet`` of the supernet ``backbone_cfg`` and load its weights from the supernet's.

    Returns the backbone (eval mode) and a checkpoint dict ``{'state_dict': {'backbone.<key>': tensor},
    'meta': {...}}`` holding only tensors and plain metadata, so it loads with ``torch.load(weights_only=True)``
    and as ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` in any toolbox.
    """
    cfg = copy.deepcopy(backbone_cfg)
    cfg.update(arch=subnet, init_cfg=None)
    init_default_scope('mmrazor')
    backbone = MODELS.build(cfg)
    prefix = find_supernet_prefix(supernet_state_dict) if prefix is None else prefix
    weights = subnet_state_dict(supernet_state_dict, backbone.layer_names, backbone.subnet, prefix)
    try:
        backbone.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise SubnetError(f'the checkpoint is not a supernet of this config\'s space:\n{error}') from None
    backbone.eval()
    checkpoint = dict(
        state_dict={f'backbone.{key}': value.detach().clone() for key, value in backbone.state_dict().items()},
        meta=dict(subnet=format_subnet(backbone.subnet), layers=list(backbone.layer_names),
                  supernet_prefix=prefix, pinas_mm_version=__version__, torch_version=str(torch.__version__)))
    return backbone, checkpoint
