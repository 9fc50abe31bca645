# Copyright (c) pinas_mm contributors. All rights reserved.
"""``--cfg-options`` that keep what is written as a string a string.

mmengine's ``DictAction`` strips quotes and reads every digit string as a number, so a subnet arch written
``model.backbone.arch=00203`` (or quoted, ``"model.backbone.arch='00203'"``) arrives as ``203``: its leading zeros,
which choose candidate 0 for the first layers, are gone.
"""
import re

from mmengine.config import DictAction as _MMEngineDictAction

_QUOTED = re.compile(r'''^(['"])(.*)\1$''')
_LEADING_ZERO_DIGITS = re.compile(r'^0\d+$')


class DictAction(_MMEngineDictAction):
    """mmengine's ``DictAction``, except that a quoted value and digits with a leading zero stay strings."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        options = getattr(namespace, self.dest)
        for key_value in values or ():
            key, value = key_value.split('=', maxsplit=1)
            quoted = _QUOTED.match(value)
            if quoted:
                options[key] = quoted.group(2)
            elif _LEADING_ZERO_DIGITS.match(value):
                options[key] = value
