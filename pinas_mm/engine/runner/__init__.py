# Copyright (c) pinas_mm contributors. All rights reserved.
from .guarded_runner import GuardedRunner, WorkDirBusyError, build_runner
from .search_loop import PiNASSearchLoop
from .subnet_score_loop import SubnetScoreLoop

__all__ = ['GuardedRunner', 'PiNASSearchLoop', 'SubnetScoreLoop', 'WorkDirBusyError', 'build_runner']
