# Copyright (c) pinas_mm contributors. All rights reserved.
from .search_loop import PiNASSearchLoop
from .subnet_score_loop import SubnetScoreLoop

__all__ = ['PiNASSearchLoop', 'SubnetScoreLoop']
