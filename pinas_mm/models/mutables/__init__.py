# Copyright (c) pinas_mm contributors. All rights reserved.
from .mixpath_bottlenecks import MixPathBottlenecks

__all__ = ['MixPathBottlenecks']
