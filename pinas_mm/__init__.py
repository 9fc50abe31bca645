# Copyright (c) pinas_mm contributors. All rights reserved.
"""pinas_mm: Pi-NAS (self-supervised one-shot NAS) for mmrazor.

Importing it checks the installed stack, applies the compatibility fixes the OpenMMLab packages need on torch 2.13 /
numpy 2, registers pinas_mm's modules (``custom_imports=dict(imports=['pinas_mm'])`` in a config does this) and makes
mmdet's / mmseg's FPN and mmseg's decode heads name the backbone's ``out_indices`` when given too few feature maps.
"""
from .utils.check_env import check_dependencies

check_dependencies()

from . import compat  # noqa: E402  (must run before anything imports mmrazor.models)

compat.apply_all()

from . import engine, fileio, models  # noqa: E402,F401  (register modules; fileio: atomic checkpoint writes)
from .models.utils.feature_map_checks import install_feature_map_checks  # noqa: E402
from .version import __version__  # noqa: E402

install_feature_map_checks()

__all__ = ['__version__']
