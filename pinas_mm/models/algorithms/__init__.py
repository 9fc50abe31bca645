# Copyright (c) pinas_mm contributors. All rights reserved.
from .pinas import PiNAS

__all__ = ['PiNAS']
