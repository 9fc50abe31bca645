# Copyright (c) pinas_mm contributors. All rights reserved.
"""Files written as a pair (an export's checkpoint and YAML) are replaced together or not at all, whatever step a
crash stops the write at, and no temporary outlives the next write; atomically written files get the mode a plain
``open`` gives under the umask."""
import io
import os
import stat

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from pinas_mm.datasets.utils import prepare_once
from pinas_mm.fileio import AtomicLocalBackend, recover_pair, write_pair
from pinas_mm.models import PiNASResNeSt

OLD = (b'old checkpoint', b'old: yaml\n')
NEW = (b'new checkpoint, longer than the old one', b'new: yaml\n')


class Crash(BaseException):
    pass


def writers(folder, contents, step=lambda: None):
    """A write of ``contents`` to ``x.pth`` and ``x.yaml``, each file written in two halves with a step between."""

    def writer(content):
        def write(path):
            with open(path, 'wb') as f:
                f.write(content[:len(content) // 2])
                f.flush()
                step()
                f.write(content[len(content) // 2:])
        return write

    return {str(folder / 'x.pth'): writer(contents[0]), str(folder / 'x.yaml'): writer(contents[1])}


def crash_at(k, monkeypatch, crash):
    """Make the k-th file-system step of a write (a writer's half, fsync, rename, removal) call ``crash`` first."""
    calls = []

    def step():
        calls.append(1)
        if len(calls) == k:
            crash()

    for name in ('replace', 'fsync', 'remove'):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda *args, real=real: (step(), real(*args))[1])
    return step


def read_pair(folder):
    recover_pair(str(folder / 'x.yaml'))  # what a reader does first
    return (folder / 'x.pth').read_bytes(), (folder / 'x.yaml').read_bytes()


def killed_write(folder, k, contents=NEW):
    """Write ``contents`` in a child process that dies (no clean-up, as kill -9) at step k; True if it finished
    first."""
    pid = os.fork()
    if pid == 0:
        try:
            monkeypatch = pytest.MonkeyPatch()
            step = crash_at(k, monkeypatch, lambda: os._exit(9))
            write_pair(writers(folder, contents, step))
        finally:
            os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def raised_write(folder, k, monkeypatch):
    """Write NEW, interrupted by an exception (Ctrl-C) at step k; True if it finished first."""
    with monkeypatch.context() as patch:
        step = crash_at(k, patch, lambda: (_ for _ in ()).throw(Crash()))
        try:
            write_pair(writers(folder, NEW, step))
        except Crash:
            return False
    return True


@pytest.mark.parametrize('crash', ['kill', 'exception'])
def test_a_crash_at_any_step_leaves_the_old_pair_or_the_new_one(tmp_path, monkeypatch, crash):
    outcomes = []
    for k in range(1, 40):
        folder = tmp_path / f'{k}'
        folder.mkdir()
        write_pair(writers(folder, OLD))
        (folder / 'x.pth.tmp').write_bytes(b'left by an older crash')
        (folder / '.x.0badcafe.tmp.pth').write_bytes(b'left by an older crash')
        (folder / 'other.pth').write_bytes(b'not ours')
        finished = killed_write(folder, k) if crash == 'kill' else raised_write(folder, k, monkeypatch)
        pair = read_pair(folder)
        assert pair in (OLD, NEW), f'step {k}: a mix {pair}'
        outcomes.append('old' if pair == OLD else 'new')
        next_write = writers(folder, (b'third', b'third: yaml\n'))
        write_pair(next_write)  # the next export cleans what the crash left
        assert sorted(p.name for p in folder.iterdir()) == ['other.pth', 'x.pth', 'x.yaml'], f'step {k}'
        assert read_pair(folder) == (b'third', b'third: yaml\n')
        if finished:
            assert pair == NEW
            break
    else:
        raise AssertionError('the write never finished')
    # crashes before the commit kept the old pair, crashes after it were finished by the reader
    assert outcomes[0] == 'old' and 'new' in outcomes[:-1], outcomes


def test_a_reader_finishes_a_committed_write_and_leaves_a_running_ones_temporaries(tmp_path):
    write_pair(writers(tmp_path, OLD))
    for k in range(1, 40):
        if killed_write(tmp_path, k):
            break
        names = {p.name for p in tmp_path.iterdir()}
        committed = '.x.commit' in names
        pair = read_pair(tmp_path)
        assert pair == (NEW if committed else OLD)
        if committed:  # finished: nothing of the write is left
            assert sorted(p.name for p in tmp_path.iterdir()) == ['x.pth', 'x.yaml']
            write_pair(writers(tmp_path, OLD))
        recover_pair(str(tmp_path / 'x.pth'), remove_temporaries=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == ['x.pth', 'x.yaml']


def saved(value):
    buffer = io.BytesIO()
    torch.save({'value': value}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize('reader', ['checkpoint', 'subnet'])
def test_pinas_mm_readers_finish_a_committed_export(tmp_path, reader):
    write_pair(writers(tmp_path, (saved(1), b'[0, 0, 0, 0, 0]\n')))
    for k in range(1, 40):  # the first step at which a killed write has committed
        assert not killed_write(tmp_path, k, (saved(2), b'[3, 1, 2, 0, 3]\n'))
        if (tmp_path / '.x.commit').exists():
            break
    if reader == 'checkpoint':  # a checkpoint load (resume, Pretrained, export) through mmengine
        assert _load_checkpoint(str(tmp_path / 'x.pth'), map_location='cpu') == {'value': 2}
    else:
        backbone = PiNASResNeSt(arch=str(tmp_path / 'x.yaml'), stage_blocks=(1, 2, 1, 1), stem_channels=16,
                                base_channels=16)
        assert backbone.subnet == ['3', '1', '2', '0', '3']
    assert (tmp_path / 'x.pth').read_bytes() == saved(2) and not (tmp_path / '.x.commit').exists()


def test_files_of_different_names_or_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match='one folder and one name'):
        write_pair({str(tmp_path / 'a.pth'): print, str(tmp_path / 'b.yaml'): print})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('umask', [0o022, 0o007])
def test_atomic_writes_give_the_mode_of_a_plain_open(tmp_path, umask):
    old_umask = os.umask(umask)
    try:
        with open(tmp_path / 'plain', 'w'):
            pass
        AtomicLocalBackend().put(b'checkpoint', str(tmp_path / 'epoch_1.pth'))
        write_pair({str(tmp_path / 'x.pth'): lambda path: torch.save({'w': torch.ones(1)}, path),
                    str(tmp_path / 'x.yaml'): lambda path: open(path, 'w').close()})
        os.mkdir(tmp_path / 'plain_dir')
        prepare_once(str(tmp_path / 'data'), {}, lambda folder: {}, 'data', 'prepare it')  # a prepared data folder
    finally:
        os.umask(old_umask)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in tmp_path.iterdir()}
    assert modes == {**dict.fromkeys(['plain', 'epoch_1.pth', 'x.pth', 'x.yaml'], oct(0o666 & ~umask)),
                     **dict.fromkeys(['plain_dir', 'data'], oct(0o777 & ~umask))}
