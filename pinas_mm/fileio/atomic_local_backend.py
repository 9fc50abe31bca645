# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints are never half-written: mmengine saves them with its file backend's ``put``, which for local paths
writes straight into the final file, so a kill or a full disk during the write leaves a truncated checkpoint."""
import glob
import os
import os.path as osp
import re
import secrets

import mmengine
from mmengine.fileio import LocalBackend, register_backend


def _create_beside(filepath):
    """A new temporary file beside ``filepath``, opened for binary writing, with the mode ``open(filepath, 'w')``
    would give (``0o666 & ~umask``, and a folder's default ACL), so that others in the group can read a checkpoint
    where they can read other files. ``tempfile.mkstemp`` would make it 0600."""
    folder, name = osp.split(osp.abspath(filepath))
    while True:
        path = osp.join(folder, f'.{name}.{secrets.token_hex(4)}.tmp')
        try:
            return path, os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), 'wb')
        except FileExistsError:
            continue


def _remove_stale_temporaries(filepath):
    """Temporaries of ``filepath`` that a killed writer left: one run writes each file (the work dir is locked), and
    a resumed run writes again the file whose write was killed, so none outlives the next write."""
    folder, name = osp.split(osp.abspath(filepath))
    for path in glob.glob(osp.join(glob.escape(folder), f'.{glob.escape(name)}.*.tmp')):
        if re.fullmatch(rf'\.{re.escape(name)}\.[0-9a-f]{{8}}\.tmp', osp.basename(path)):
            os.remove(path)


@register_backend('local', force=True, prefixes='')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` writes a temporary file beside the target and renames it into
    place, so a reader sees the old file or the whole new one, never a part."""

    def put(self, obj, filepath):
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(filepath)))
        _remove_stale_temporaries(filepath)
        tmp_path, f = _create_beside(filepath)
        try:
            with f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, filepath)
        except BaseException:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
            raise
