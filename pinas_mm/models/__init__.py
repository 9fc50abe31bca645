# Copyright (c) pinas_mm contributors. All rights reserved.
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .mutables import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
