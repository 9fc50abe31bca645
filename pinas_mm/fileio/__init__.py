# Copyright (c) pinas_mm contributors. All rights reserved.
from .atomic_local_backend import AtomicLocalBackend
from .checkpoint_loader import CheckpointError, load_from_local
from .file_pair import recover_pair, write_pair

__all__ = ['AtomicLocalBackend', 'CheckpointError', 'load_from_local', 'recover_pair', 'write_pair']
