# Copyright (c) pinas_mm contributors. All rights reserved.
"""tools/misc/verify_dataset.py names every unreadable image of a config's datasets before a training run meets one,
and exits 1 for them, 0 for readable data."""
import shutil
import subprocess
import sys
from pathlib import Path

CONFIG = 'configs/pinas/supernet_mnist5k.py'


def verify(data_root, *args):
    return subprocess.run([sys.executable, 'tools/misc/verify_dataset.py', CONFIG, '--cfg-options',
                           f'train_dataloader.dataset.dataset.data_root={data_root}', *args],
                          capture_output=True, text=True)


def test_an_unreadable_png_among_good_ones_is_named(mnist5k, tmp_path):
    for digit in ('0', '1'):
        (tmp_path / 'train' / digit).mkdir(parents=True)
        for image in sorted((Path(mnist5k) / 'train' / digit).iterdir())[:3]:
            shutil.copy(image, tmp_path / 'train' / digit)
    corrupt = sorted((tmp_path / 'train' / '1').iterdir())[0]
    corrupt.write_bytes(corrupt.read_bytes()[:100])  # a copy cut short
    result = verify(tmp_path, '--workers', '2', '--out-path', str(tmp_path / 'unreadable.txt'))
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout.splitlines() == [f'{corrupt}: AssertionError: failed to load image (Pillow: image file is '
                                          'truncated)', '6 images checked (train 6), 1 unreadable']
    assert (tmp_path / 'unreadable.txt').read_text().startswith(f'{corrupt}\t')

    corrupt.unlink()
    result = verify(tmp_path)
    assert result.returncode == 0 and result.stdout == '5 images checked (train 5), 0 unreadable\n'


def test_a_split_the_config_lacks_is_refused_without_a_traceback(tmp_path):
    result = verify(tmp_path, '--split', 'val')
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f'error: {CONFIG} has no val_dataloader'
