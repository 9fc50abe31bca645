# Copyright (c) pinas_mm contributors. All rights reserved.
import json
import os
import os.path as osp
import shutil
import tempfile

COMPLETE_MARKER = 'dataset.json'


def prepare_once(out_dir, settings, write, description):
    """Write a dataset folder atomically, or reuse it when a complete one was written with the same ``settings``.

    ``write(tmp_dir)`` fills a temporary sibling folder and returns the summary's counts; the folder gets its
    ``COMPLETE_MARKER`` last and is renamed into place, so an interrupted run leaves nothing that looks finished.
    Returns the summary recorded in the marker.
    """
    marker = osp.join(out_dir, COMPLETE_MARKER)
    if osp.exists(marker):
        with open(marker) as f:
            summary = json.load(f)
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
    try:
        summary = dict(settings=settings, **write(tmp_dir))
        with open(osp.join(tmp_dir, COMPLETE_MARKER), 'w') as f:
            json.dump(summary, f, indent=2)
        os.rename(tmp_dir, out_dir)  # replaces an empty folder, fails on a full one
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary
