# Copyright (c) pinas_mm contributors. All rights reserved.
"""An mmengine ``Runner`` that refuses what would otherwise go wrong quietly at the start of a run.

mmengine lets two runs write into one work dir (their logs interleave, one's checkpoints and dumped config replace
the other's), loads ``load_from`` with ``strict=False`` (an unrelated model's weights only warn, and training starts
from scratch) and resumes from any file (a weights-only file ends in ``KeyError: 'epoch'``).
"""
import datetime
import errno
import glob
import os
import os.path as osp
import re
import socket
import sys

from mmengine.runner import Runner

from pinas_mm.fileio import CheckpointError
from pinas_mm.registry import RUNNERS

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded against each other
    fcntl = None

LOCK_FILE = '.pinas_mm_run.lock'


class WorkDirBusyError(RuntimeError):
    """Another live run writes into the same work dir."""


def _launch_rank():
    """The global rank a launcher gave this process, before ``init_dist`` (torchrun, Slurm, MPI); 0 alone."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK'):
        if name in os.environ:
            return int(os.environ[name])
    return 0


class WorkDirLock:
    """An exclusive POSIX lock (``lockf``) on ``<work_dir>/.pinas_mm_run.lock``, naming its holder inside.

    The kernel drops the lock when its process ends in any way, ``kill -9`` included, so a killed run's lock never
    blocks the next one. Unlike ``flock``, forked data-loader workers do not inherit it, so it is free as soon as
    the main process is gone, not when its last worker notices. A process holds each lock once.
    """

    _held = set()  # POSIX locks do not exclude their own process: its own locks are remembered here

    def __init__(self, work_dir):
        self.path = osp.join(osp.abspath(work_dir), LOCK_FILE)
        self._file = None

    def acquire(self):
        if fcntl is None:
            return
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        if self.path in self._held:  # (opening the file again would drop the lock when closed)
            raise self._busy(f'pid {os.getpid()}, this process')
        lock_file = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666), 'r+')
        try:
            fcntl.lockf(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = lock_file.read().strip() or 'a process that has not written its name yet'
            lock_file.close()
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise self._busy(holder) from None
        self._held.add(self.path)
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f'pid {os.getpid()} on {socket.gethostname()}, started '
                        f'{datetime.datetime.now().isoformat(timespec="seconds")}: {" ".join(sys.argv)}\n')
        lock_file.flush()
        self._file = lock_file

    def _busy(self, holder):
        return WorkDirBusyError(f'work dir {osp.dirname(self.path)} is in use by another run ({holder}); wait for it '
                                'to end or give this run another --work-dir')

    def release(self):
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None
            self._held.discard(self.path)

    __del__ = release


def _latest_checkpoint(work_dir):
    """What ``last_checkpoint`` names, or where a kill emptied it (mmengine's CheckpointHook rewrites it in place
    after each save) the newest ``epoch_N.pth`` / ``iter_N.pth``; None without either."""
    last, named = osp.join(work_dir, 'last_checkpoint'), ''
    if osp.isfile(last):
        with open(last) as f:
            named = f.read().strip()
    if named and osp.isfile(named):
        return named
    saved = [(int(match.group(2)), path) for path in glob.glob(osp.join(glob.escape(work_dir), '*_*.pth'))
             for match in [re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(path))] if match]
    return max(saved)[1] if saved else None


def _state_dict(checkpoint):
    return checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}


@RUNNERS.register_module()
class GuardedRunner(Runner):
    """mmengine's ``Runner``, refusing a second live run in its work dir, ``load_from`` weights that do not belong
    to the model and a resume from a file without training state.

    Set ``runner_type='GuardedRunner'`` (pinas_mm's configs do; its tools use it for any config that names no
    other runner). ``load_from_min_shared`` (config key, default 0.5): the least share of the model's weights that
    ``load_from`` must hold with the same name and shape; lower it (0 allows any partial load) to start, e.g., a
    detector from a classifier's weights on purpose.
    """

    def __init__(self, *args, load_from_min_shared=0.5, **kwargs):
        work_dir = kwargs['work_dir'] if 'work_dir' in kwargs else args[1]
        self._work_dir_lock = WorkDirLock(work_dir)
        if _launch_rank() == 0:  # one lock per run, however many processes it has
            self._work_dir_lock.acquire()
        self.load_from_min_shared = load_from_min_shared
        self._loading, self._resuming = None, False  # what load_checkpoint / resume is reading, for call_hook
        try:
            super().__init__(*args, **kwargs)
        except BaseException:
            self._work_dir_lock.release()
            raise

    @classmethod
    def from_cfg(cls, cfg):
        runner = super().from_cfg(cfg)
        runner.load_from_min_shared = cfg.get('load_from_min_shared', 0.5)
        return runner

    def _released_after(self, run):
        try:
            return run()
        finally:
            self._work_dir_lock.release()

    def train(self):
        return self._released_after(super().train)

    def val(self):
        return self._released_after(super().val)

    def test(self):
        return self._released_after(super().test)

    def load_or_resume(self):
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = _latest_checkpoint(self.work_dir)
        return super().load_or_resume()

    def load_checkpoint(self, filename, map_location='cpu', strict=False, revise_keys=[(r'^module.', '')]):
        if '://' not in filename and not osp.isfile(filename):
            raise CheckpointError(f'load_from {filename} does not exist: train the model it names first (the config '
                                  'says which), or give the checkpoint you have: --cfg-options load_from=PATH')
        self._loading = dict(filename=filename, strict=strict, revise_keys=revise_keys)
        try:  # checked in the after_load_checkpoint call, on the checkpoint mmengine has read
            return super().load_checkpoint(filename, map_location, strict, revise_keys)
        finally:
            self._loading = None

    def resume(self, filename, resume_optimizer=True, resume_param_scheduler=True, map_location='default'):
        self._resuming = True
        try:
            return super().resume(filename, resume_optimizer, resume_param_scheduler, map_location)
        finally:
            self._resuming = False

    def call_hook(self, fn_name, **kwargs):
        if fn_name == 'after_load_checkpoint' and self._loading:
            if self._resuming:
                self._check_training_state(kwargs['checkpoint'], self._loading['filename'])
            if not self._loading['strict']:
                self._check_weights_belong(kwargs['checkpoint'], self._loading['filename'],
                                           self._loading['revise_keys'])
        super().call_hook(fn_name, **kwargs)

    @staticmethod
    def _check_training_state(checkpoint, filename):
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
        lacks = [name for name, present in (('meta.epoch', isinstance(meta, dict) and 'epoch' in meta),
                                            ('meta.iter', isinstance(meta, dict) and 'iter' in meta),
                                            ('optimizer', isinstance(checkpoint, dict) and 'optimizer' in checkpoint))
                 if not present]
        if lacks:
            raise CheckpointError(
                f'cannot resume from {filename}: it holds no training state (no {", ".join(lacks)}), only weights; '
                f'start a new run from its weights with load_from={filename} instead of --resume')

    def _check_weights_belong(self, checkpoint, filename, revise_keys):
        weights = {}
        for key, value in _state_dict(checkpoint).items():
            for pattern, replacement in revise_keys:
                key = re.sub(pattern, replacement, key)
            weights[key] = value
        model = self.model.module if hasattr(self.model, 'module') else self.model
        expected = model.state_dict()
        shared = [key for key, value in expected.items()
                  if key in weights and getattr(weights[key], 'shape', None) == value.shape]
        if expected and len(shared) < self.load_from_min_shared * len(expected):
            missing = [key for key in expected if key not in weights][:3]
            other = [key for key in weights if key not in expected][:3]
            raise CheckpointError(
                f'load_from {filename} holds {len(shared)} of the model\'s {len(expected)} weights with the same name '
                f'and shape, fewer than load_from_min_shared={self.load_from_min_shared:g} of them: it is not this '
                f'model\'s checkpoint (the model expects e.g. {missing}; the file has e.g. {other}). Give the right '
                'file, or lower load_from_min_shared (--cfg-options load_from_min_shared=0) to load it partially')

def build_runner(cfg):
    """The config's runner as mmengine's tools build it (``runner_type``, if set), a :class:`GuardedRunner` where
    the config names none (e.g. an mmdet or mmseg config)."""
    return RUNNERS.build(cfg) if 'runner_type' in cfg else GuardedRunner.from_cfg(cfg)
