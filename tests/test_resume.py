# Copyright (c) pinas_mm contributors. All rights reserved.
"""kill -9 during Pi-NAS training, then --resume: the run must end in exactly the state of an uninterrupted one
(student, EMA teacher, queue, path generator, optimizer, iteration)."""
import os
import signal
import subprocess
import sys
import time

import torch

# the learning monitor (before training and after every epoch) on 32 held-out and 64 bank digits through one pair of
# paths: it still draws augmentations and paths between steps, which a resumed run must not notice
SMALL_MONITOR = ['custom_hooks.2.num_images=32', 'custom_hooks.2.num_bank_images=64', 'custom_hooks.2.path_pairs=1']


def train_command(work_dir, mnist5k, *extra):
    return [sys.executable, 'tools/train.py', 'configs/pinas/supernet_mnist5k.py', '--work-dir', str(work_dir), *extra,
            '--cfg-options', 'train_cfg.max_epochs=3', f'train_dataloader.dataset.data_root={mnist5k}',
            'train_dataloader.batch_size=32', 'train_dataloader.dataset.indices=128',
            'train_dataloader.num_workers=1', 'train_dataloader.persistent_workers=False', 'model.queue_len=256',
            *SMALL_MONITOR]


def test_resume_after_kill_matches_an_uninterrupted_run(repo_root, mnist5k, tmp_path):
    subprocess.run(train_command(tmp_path / 'uninterrupted', mnist5k), cwd=repo_root, check=True,
                   capture_output=True)
    interrupted = tmp_path / 'interrupted'
    process = subprocess.Popen(train_command(interrupted, mnist5k), cwd=repo_root, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    last = interrupted / 'last_checkpoint'  # written after a checkpoint is complete
    deadline = time.time() + 300
    while not (last.exists() and last.read_text().endswith('epoch_1.pth')):
        assert process.poll() is None and time.time() < deadline, 'training ended before it could be killed'
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (interrupted / 'epoch_3.pth').exists()
    result = subprocess.run(train_command(interrupted, mnist5k, '--resume'), cwd=repo_root, capture_output=True,
                            text=True)
    assert result.returncode == 0 and 'resumed epoch: 1' in result.stdout + result.stderr, result.stderr[-3000:]

    expected = torch.load(tmp_path / 'uninterrupted' / 'epoch_3.pth', weights_only=False)
    resumed = torch.load(interrupted / 'epoch_3.pth', weights_only=False)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 12
    for key, value in expected['state_dict'].items():  # student, encoder_k (teacher), queue, path generator
        assert torch.equal(resumed['state_dict'][key], value), key
    for index, state in expected['optimizer']['state'].items():
        assert torch.equal(resumed['optimizer']['state'][index]['momentum_buffer'], state['momentum_buffer'])
