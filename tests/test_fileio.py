# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints are written atomically: an interrupted write leaves the previous file, never a truncated one."""
import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from pinas_mm.fileio import AtomicLocalBackend


def test_mmengine_saves_local_checkpoints_with_the_atomic_backend(tmp_path):
    assert isinstance(get_file_backend(str(tmp_path / 'x.pth')), AtomicLocalBackend)
    save_checkpoint(dict(state_dict=dict(w=torch.ones(2))), str(tmp_path / 'epoch_1.pth'))
    assert torch.equal(torch.load(tmp_path / 'epoch_1.pth')['state_dict']['w'], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']  # no temporary file left


def test_an_interrupted_write_leaves_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / 'latest.pth'
    backend = AtomicLocalBackend()
    backend.put(b'complete old checkpoint', target)

    def killed(*args):
        raise KeyboardInterrupt  # stands for a kill between writing and renaming

    monkeypatch.setattr('os.replace', killed)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new checkpoint', target)
    assert target.read_bytes() == b'complete old checkpoint'
    assert [p.name for p in tmp_path.iterdir()] == ['latest.pth']
