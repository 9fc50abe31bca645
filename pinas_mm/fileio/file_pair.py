# Copyright (c) pinas_mm contributors. All rights reserved.
"""Files that only make sense together (an exported checkpoint and its subnet YAML) are replaced together or not at
all, as a database commits a transaction: each new file is written and flushed to disk under a temporary name beside
its target, a commit record naming the renames is written atomically, then the files are renamed into place and the
record removed. A crash before the record leaves the old files; a crash after it is finished by whoever next touches
the files (:func:`recover_pair`), so a reader never meets a new file beside an old one."""
import json
import os
import os.path as osp
import re
import secrets


def _folder_and_stem(path):
    folder, name = osp.split(osp.abspath(path))
    return folder, osp.splitext(name)[0]


def _record_path(folder, stem):
    return osp.join(folder, f'.{stem}.commit')


def _fsync(path):
    """Flush a file's content, or a folder's renames, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _roll_forward(record):
    """Rename what a commit record names into place (skipping those already renamed), then drop the record."""
    folder = osp.dirname(record)
    try:
        with open(record) as f:
            renames = json.load(f)
    except FileNotFoundError:  # another process finished it
        return
    for temporary, target in renames:
        if osp.exists(osp.join(folder, temporary)):
            os.replace(osp.join(folder, temporary), osp.join(folder, target))
    _fsync(folder)
    try:
        os.remove(record)
    except FileNotFoundError:
        pass


def recover_pair(path, remove_temporaries=False):
    """Finish a write of the files named like ``path`` (any extension) that a crash interrupted after its commit.
    Call it before reading any of them.

    With ``remove_temporaries`` it also deletes what writes that crashed before their commit left. Only a writer asks
    for that: to a reader they may be a running write's, and nothing reads them.
    """
    folder, stem = _folder_and_stem(path)
    record = _record_path(folder, stem)
    if osp.exists(record):
        _roll_forward(record)
    if remove_temporaries and osp.isdir(folder):
        temporary = re.compile(rf'\.{re.escape(stem)}\.[0-9a-f]{{8}}\.tmp(\.[^.]+)?$')
        for name in os.listdir(folder):
            if temporary.match(name):
                os.remove(osp.join(folder, name))


def write_pair(writers):
    """Replace files named alike in one folder (``x.pth`` and ``x.yaml``) together: a reader that calls
    :func:`recover_pair` first finds all the old files or all the new ones, and no temporary outlives the next write.

    The new files get the mode their writers create them with (``open``: ``0o666 & ~umask``). A ``<target>.tmp``
    beside a target, which a crashed write-then-rename leaves, is removed too.

    Args:
        writers (dict): ``{target: write}``; ``write(path)`` writes the target's new content at ``path``, a temporary
            with the target's extension, so writers that choose the format by extension (mmengine's ``dump``) work.
    """
    names = {_folder_and_stem(target) for target in writers}
    if len(names) != 1 or len(writers) != len({osp.abspath(target) for target in writers}):
        raise ValueError(f'files written together need one folder and one name, extensions apart: {list(writers)}')
    folder, stem = names.pop()
    os.makedirs(folder, exist_ok=True)
    recover_pair(osp.join(folder, stem), remove_temporaries=True)
    for target in writers:
        if osp.isfile(f'{target}.tmp'):
            os.remove(f'{target}.tmp')
    token = secrets.token_hex(4)
    renames, record = [], _record_path(folder, stem)
    record_temporary = osp.join(folder, f'.{stem}.{token}.tmp.commit')
    try:
        for target, write in writers.items():
            temporary = f'.{stem}.{token}.tmp{osp.splitext(target)[1]}'
            renames.append((temporary, osp.basename(target)))
            write(osp.join(folder, temporary))
            _fsync(osp.join(folder, temporary))
        with open(record_temporary, 'w') as f:
            json.dump(renames, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(record_temporary, record)  # the commit: from here on the new files win
    except BaseException:
        if not osp.exists(record):  # not committed (an interrupt may come after the commit): the old files stay
            for temporary in [record_temporary] + [osp.join(folder, name) for name, _ in renames]:
                if osp.exists(temporary):
                    os.remove(temporary)
        raise
    _fsync(folder)  # the record is on the disk before any target changes
    _roll_forward(record)
