# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints are never half-written: mmengine saves them with its file backend's ``put``, which for local paths
writes straight into the final file, so a kill or a full disk during the write leaves a truncated checkpoint."""
import os
import os.path as osp
import tempfile

import mmengine
from mmengine.fileio import LocalBackend, register_backend


@register_backend('local', force=True, prefixes='')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` writes a temporary file beside the target and renames it into
    place, so a reader sees the old file or the whole new one, never a part."""

    def put(self, obj, filepath):
        folder = osp.dirname(osp.abspath(filepath))
        mmengine.mkdir_or_exist(folder)
        fd, tmp_path = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, filepath)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise
