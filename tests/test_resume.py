# Copyright (c) pinas_mm contributors. All rights reserved.
"""kill -9 during Pi-NAS training, then --resume: the run must end in exactly the state of an uninterrupted one
(student, EMA teacher, queue, path generator, optimizer, iteration), with the config's own data loader: 2
persistent workers, each image's augmentations seeded per (seed, epoch, index)."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

from mmengine.config import Config

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
from fault_injection import checkpoint_differences, training_options  # noqa: E402

CONFIG = 'configs/pinas/supernet_mnist5k.py'


def train_command(work_dir, mnist5k, *extra):
    # fewer digits, epochs, a smaller batch and queue; workers, their persistence and the sampler as shipped
    return [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work_dir), *extra, '--cfg-options',
            *training_options(mnist5k, epochs=3, images=128)]


def test_the_shipped_data_loader_is_tested(repo_root):
    loader = Config.fromfile(osp.join(repo_root, CONFIG)).train_dataloader
    assert (loader.num_workers, loader.persistent_workers) == (2, True)
    assert loader.sampler.type == 'mmrazor.SeededAugmentSampler'
    assert not any(option.startswith(('train_dataloader.num_workers', 'train_dataloader.persistent',
                                      'train_dataloader.sampler')) for option in train_command('w', 'd'))


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
    time.sleep(1)  # into epoch 2: the persistent workers have loaded batches of it
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (interrupted / 'epoch_3.pth').exists()
    result = subprocess.run(train_command(interrupted, mnist5k, '--resume'), cwd=repo_root, capture_output=True,
                            text=True)
    assert result.returncode == 0 and 'resumed epoch: 1' in result.stdout + result.stderr, result.stderr[-3000:]
    assert checkpoint_differences(tmp_path / 'uninterrupted' / 'epoch_3.pth', interrupted / 'epoch_3.pth') == []
