# Copyright (c) pinas_mm contributors. All rights reserved.
"""The command-line tools on the bundled demo (command A), shortened: data preparation, train, test, distributed
train with torchrun on 2 CPU processes (gloo); how the tools refuse what the user must fix."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from pinas_mm.datasets import prepare_mnist5k_classification
from conftest import run_script

DEMO_CONFIG = 'configs/pinas/spos_supernet_mnist5k.py'


def test_mnist5k_split_is_stratified_disjoint_and_reused(mnist5k):
    files = {split: {cls: sorted(os.listdir(osp.join(mnist5k, split, cls))) for cls in map(str, range(10))}
             for split in ('train', 'val')}
    assert all(len(names) == 100 for names in files['val'].values())
    assert sum(len(names) for names in files['train'].values()) == 4000
    train_ids = {name for names in files['train'].values() for name in names}
    val_ids = {name for names in files['val'].values() for name in names}
    assert not train_ids & val_ids  # file names are the rows of mnist_5k
    marker = osp.join(mnist5k, 'dataset.json')
    mtime = os.stat(marker).st_mtime_ns
    assert prepare_mnist5k_classification(mnist5k) == json.load(open(marker))
    assert os.stat(marker).st_mtime_ns == mtime  # reused, not rewritten
    with pytest.raises(FileExistsError, match='seed'):
        prepare_mnist5k_classification(mnist5k, seed=1)


def short_run_options(data_root):
    return ['--cfg-options', 'train_cfg.max_epochs=1', f'train_dataloader.dataset.data_root={data_root}',
            'train_dataloader.dataset.indices=128', f'val_dataloader.dataset.data_root={data_root}',
            'val_dataloader.dataset.indices=100', f'test_dataloader.dataset.data_root={data_root}',
            'test_dataloader.dataset.indices=100']


def run(command, repo_root, **env):
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, env={**os.environ, **env})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_train_then_test(repo_root, mnist5k, tmp_path):
    work_dir = str(tmp_path)
    log = run([sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir, *short_run_options(mnist5k)],
              repo_root)
    assert 'accuracy/top1' in log
    log = run([sys.executable, 'tools/test.py', DEMO_CONFIG, f'{work_dir}/epoch_1.pth', '--work-dir', work_dir,
               '--out', f'{work_dir}/predictions.pkl', *short_run_options(mnist5k)], repo_root)
    assert 'accuracy/top1' in log and osp.exists(f'{work_dir}/predictions.pkl')


def test_pinas_supernet_trains_without_labels(repo_root, mnist5k, tmp_path):
    log = run([sys.executable, 'tools/train.py', 'configs/pinas/supernet_mnist5k.py', '--work-dir', str(tmp_path),
               '--cfg-options', 'train_cfg.max_epochs=1', f'train_dataloader.dataset.dataset.data_root={mnist5k}',
               'train_dataloader.dataset.dataset.indices=128', 'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False', 'custom_hooks.2.num_images=32',
               'custom_hooks.2.num_bank_images=64', 'custom_hooks.2.path_pairs=1'], repo_root)  # a small monitor
    assert 'loss_alpha_beta' in log and 'queue_fill: 0.1250' in log  # 2 steps x 64 keys of a 1,024 queue
    assert 'teacher_momentum: 0.9990' in log and 'eta:' in log
    assert osp.exists(tmp_path / 'epoch_1.pth')


# Refusals: a problem of the environment or the data, which the user must fix, ends in its message alone (no Python
# traceback) and exit status 1; anything else, a bug, keeps its traceback.

def test_an_unsupported_stack_is_refused_with_one_message(repo_root):
    broken_stack = ("import importlib.metadata as metadata, runpy, sys; real = metadata.version; "
                    "metadata.version = lambda name: '2.0.1' if name == 'torch' else real(name); "
                    "sys.argv = ['tools/train.py', 'configs/pinas/supernet_mnist5k.py']; "
                    "runpy.run_path('tools/train.py', run_name='__main__')")
    result = subprocess.run([sys.executable, '-c', broken_stack], cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 1 and 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert 'error: pinas_mm cannot run with the installed packages' in result.stderr
    assert 'torch 2.0.1 is installed, need torch' in result.stderr and 'make install' in result.stderr


def test_a_missing_config_is_refused_by_name():
    with pytest.raises(SystemExit) as refusal:
        run_script('tools/train.py', 'configs/pinas/no_such_config.py')
    assert re.match(r'error: .*no_such_config\.py', str(refusal.value.code))  # printed as is, exit status 1


def test_an_mmdet_config_without_compiled_ops_is_refused(monkeypatch, tmp_path):
    from pinas_mm.utils import check_env
    monkeypatch.setattr(check_env, 'has_compiled_ops', lambda: False)
    with pytest.raises(SystemExit) as refusal:
        run_script('tools/test.py', 'configs/transfer/mask-rcnn_pinas_fpn_digit-canvases.py',
                 str(tmp_path / 'epoch_1.pth'), '--work-dir', str(tmp_path))
    assert re.match(r"error: mmdet models \(.*\) need mmcv's compiled ops", str(refusal.value.code))


def test_a_bug_keeps_its_traceback(monkeypatch):
    import pinas_mm.apis

    def broken(model_cfg):
        raise ZeroDivisionError('a bug')

    monkeypatch.setattr(pinas_mm.apis, 'find_backbone_cfg', broken)
    with pytest.raises(ZeroDivisionError, match='a bug'):  # not turned into a message
        run_script('tools/get_flops.py', 'configs/pinas/supernet_mnist5k.py')


def test_an_import_error_other_than_the_environment_check_keeps_its_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pinas_mm.visualization', None)  # as a broken module of pinas_mm would fail
    with pytest.raises(ImportError, match='pinas_mm.visualization'):
        run_script('tools/rank_correlation.py', 'a.json', 'b.json')
