# Copyright (c) pinas_mm contributors. All rights reserved.


class ConfigError(ValueError):
    """A config setting that cannot work, found before the run spends time on it; the message names the setting and
    the fix. pinas_mm's tools print it without a traceback."""
