# Copyright (c) pinas_mm contributors. All rights reserved.
from .scores import *  # noqa: F401,F403
from .subnet_cost import SubnetCostTable

__all__ = ['SubnetCostTable']
