# Copyright (c) pinas_mm contributors. All rights reserved.
from .search_loop import PiNASSearchLoop

__all__ = ['PiNASSearchLoop']
