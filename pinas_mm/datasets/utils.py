# Copyright (c) pinas_mm contributors. All rights reserved.
import hashlib
import inspect
import json
import os
import os.path as osp
import shutil
import tempfile

COMPLETE_MARKER = 'dataset.json'


class DatasetError(RuntimeError):
    """A data file is missing or corrupt; the message names it and gives the command that rebuilds it."""


def file_digests(root):
    """SHA-1 of every file below ``root`` but the marker, by path relative to ``root``."""
    digests = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            relative = osp.relpath(path, root)
            if relative != COMPLETE_MARKER:
                with open(path, 'rb') as f:
                    digests[relative] = hashlib.sha1(f.read()).hexdigest()
    return digests


def read_marker(out_dir, rebuild_command):
    """The summary a complete folder recorded, checked against the files now there."""
    try:
        with open(osp.join(out_dir, COMPLETE_MARKER)) as f:
            summary = json.load(f)
        recorded = summary['files']
    except (ValueError, KeyError) as error:
        raise DatasetError(f'{osp.join(out_dir, COMPLETE_MARKER)} is corrupt or from an older pinas_mm ({error!r}); '
                           f'rebuild the folder with:\n  {rebuild_command}') from None
    found = file_digests(out_dir)
    damaged = sorted(name for name, digest in recorded.items() if found.get(name) != digest)
    if damaged:
        first = osp.join(out_dir, damaged[0])
        state = 'changed since it was written' if damaged[0] in found else 'missing'
        raise DatasetError(f'{len(damaged)} of {len(recorded)} files of {out_dir} are missing or changed, e.g. '
                           f'{first} is {state}; rebuild the folder with:\n  {rebuild_command}')
    return summary


def prepare_once(out_dir, settings, write, description, rebuild_command, rebuild=False):
    """Write a dataset folder atomically, or reuse it when a complete one was written with the same ``settings``.

    ``write(tmp_dir)`` fills a temporary sibling folder and returns the summary's counts; the folder gets its
    ``COMPLETE_MARKER`` (settings, counts, a checksum per file) last and is renamed into place, so an interrupted run
    leaves nothing that looks finished. A reused folder is checked file by file: :class:`DatasetError`, naming a
    missing or changed file and ``rebuild_command``, when one is. ``rebuild=True`` deletes a folder written here
    and writes it again. Returns the summary recorded in the marker.
    """
    marker = osp.join(out_dir, COMPLETE_MARKER)
    if rebuild and osp.exists(marker):
        shutil.rmtree(out_dir)
    if osp.exists(marker):
        summary = read_marker(out_dir, rebuild_command)
        if summary['settings'] == settings:
            return summary
        raise FileExistsError(f'{out_dir} holds {description} written with {summary["settings"]}, not {settings}; '
                              'delete it or choose another output folder.')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f'{out_dir} holds files but no {COMPLETE_MARKER}, so it was not written here; '
                              'delete it or choose another output folder.')
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'.{osp.basename(osp.abspath(out_dir))}-', dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_dir, 0o777 & ~umask)  # mkdtemp's 0700 would keep others of a cluster group from the data
    try:
        summary = dict(settings=settings, **write(tmp_dir), files=file_digests(tmp_dir))
        with open(osp.join(tmp_dir, COMPLETE_MARKER), 'w') as f:
            json.dump(summary, f, indent=1)
        os.rename(tmp_dir, out_dir)  # replaces an empty folder, fails on a full one
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary


def rebuild_command(tool, out_dir, function, **options):
    """The command line of ``tool`` that writes ``out_dir`` again with ``options``, those at ``function``'s defaults
    left out."""
    parameters = inspect.signature(function).parameters
    flags = []
    for name, value in options.items():
        values = tuple(value) if isinstance(value, (list, tuple)) else (value, )
        default = parameters[name].default
        if values != (tuple(default) if isinstance(default, (list, tuple)) else (default, )):
            flags.append(' '.join([f'--{name.replace("_", "-")}', *map(str, values)]))
    return ' '.join(['python', tool, out_dir, *flags, '--rebuild'])
