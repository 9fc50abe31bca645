# Copyright (c) pinas_mm contributors. All rights reserved.
from .subnet import (SubnetError, dump_subnet, format_subnet, load_subnet, parse_subnet, state_dict_mismatch,
                     subnet_state_dict)

__all__ = [
    'SubnetError', 'dump_subnet', 'format_subnet', 'load_subnet', 'parse_subnet', 'state_dict_mismatch',
    'subnet_state_dict'
]
