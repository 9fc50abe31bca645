# Copyright (c) pinas_mm contributors. All rights reserved.
"""pinas_mm: Pi-NAS (self-supervised one-shot NAS) for mmrazor.

Importing it checks the installed stack, applies the compatibility fixes the installed OpenMMLab packages need on
this torch / numpy, and registers pinas_mm's modules (``custom_imports=dict(imports=['pinas_mm'])`` in a config does
this). It never imports mmdet or mmseg, whose models need mmcv's compiled ops.
"""
from .utils.check_env import check_dependencies, notice_missing_ops

check_dependencies()
notice_missing_ops()

from . import compat  # noqa: E402  (must run before anything imports mmrazor.models)

compat.apply_all()

from . import datasets, engine, fileio, models  # noqa: E402,F401  (register modules; fileio: atomic checkpoint writes)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
