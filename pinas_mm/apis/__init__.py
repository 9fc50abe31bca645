# Copyright (c) pinas_mm contributors. All rights reserved.
from .subnet_export import export_subnet, find_backbone_cfg, find_supernet_prefix

__all__ = ['export_subnet', 'find_backbone_cfg', 'find_supernet_prefix']
