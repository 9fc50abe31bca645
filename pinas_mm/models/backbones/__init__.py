# Copyright (c) pinas_mm contributors. All rights reserved.
from .pinas_resnest import PiNASResNeSt

__all__ = ['PiNASResNeSt']
