# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints are written atomically: an interrupted write leaves the previous file, never a truncated one; a file
that is not a checkpoint is named as such when loaded."""
import argparse
import re

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from pinas_mm.compat import at_least
from pinas_mm.fileio import AtomicLocalBackend, CheckpointError


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


@pytest.mark.parametrize('content, reason', [
    (b'not a checkpoint at all' * 10, r'no longer one \(damaged or cut short\); torch.load stopped at: '),
    (b'', r'no longer one \(damaged or cut short\); torch.load stopped at: EOFError'),
    ('half', r'no longer one \(damaged or cut short\); torch.load stopped at: PytorchStreamReader failed'),
    pytest.param('object', r'not a checkpoint that pinas_mm loads: it holds a Python object .*\(argparse.Namespace\)',
                 marks=pytest.mark.skipif(not at_least('torch', '2.6'), reason='torch < 2.6 unpickles any object')),
])
def test_a_file_that_is_not_a_checkpoint_is_named_without_advice_to_load_it_unsafely(tmp_path, content, reason):
    path = tmp_path / 'damaged.pth'
    if content == 'half':
        torch.save({'w': torch.ones(100)}, path)
        path.write_bytes(path.read_bytes()[:300])
    elif content == 'object':
        torch.save({'args': argparse.Namespace(lr=0.1)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f'^{re.escape(str(path))} is (.|\n)*{reason}') as error:
        _load_checkpoint(str(path), map_location='cpu')
    assert 'weights_only' not in str(error.value) and error.value.__cause__ is None
    torch.save({'w': torch.ones(3)}, path)  # a checkpoint loads as before
    assert _load_checkpoint(str(path), map_location='cpu')['w'].sum() == 3
