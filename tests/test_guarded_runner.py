# Copyright (c) pinas_mm contributors. All rights reserved.
"""GuardedRunner: one live run per work dir, load_from weights that belong to the model, resume from a training
state only."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from pinas_mm.engine.runner import GuardedRunner, WorkDirBusyError
from pinas_mm.engine.runner.guarded_runner import LOCK_FILE
from pinas_mm.fileio import CheckpointError

# another run's process as GuardedRunner's lock sees it: a POSIX lock on the lock file, its holder written inside
HOLD_LOCK = textwrap.dedent('''
    import fcntl, os, sys, time
    os.makedirs(sys.argv[1], exist_ok=True)
    lock = open(os.path.join(sys.argv[1], '.pinas_mm_run.lock'), 'a+')
    fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    lock.truncate(0)
    lock.write(f'pid {os.getpid()} on host, started now: tools/train.py ...')
    lock.flush()
    print('locked', flush=True)
    time.sleep(600)
''')


@pytest.fixture
def live_run(tmp_path):
    """Another process holding the work dir's lock, as a running training does; ``stop()`` kills it with -9."""
    work_dir = tmp_path / 'work_dir'
    process = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(work_dir)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == 'locked'

    def stop():
        process.send_signal(signal.SIGKILL)
        process.wait()

    yield work_dir, process.pid, stop
    if process.poll() is None:
        stop()


def test_a_second_run_in_a_live_runs_work_dir_is_refused_naming_it_until_it_is_killed(live_run, make_toy_runner):
    work_dir, pid, stop = live_run
    before = set(os.listdir(work_dir))
    with pytest.raises(WorkDirBusyError, match=f'is in use by another run \\(pid {pid} on '):
        make_toy_runner(work_dir, 4, runner_cls=GuardedRunner)
    assert set(os.listdir(work_dir)) == before  # refused before writing anything: no log folder, no config
    stop()  # kill -9: the kernel drops the lock, a stale lock file does not block
    assert (work_dir / LOCK_FILE).exists()
    make_toy_runner(work_dir, 4, runner_cls=GuardedRunner).train()
    assert str(os.getpid()) in (work_dir / LOCK_FILE).read_text()


def test_the_lock_is_released_when_the_run_ends(tmp_path, make_toy_runner):
    make_toy_runner(tmp_path, 2, runner_cls=GuardedRunner).train()
    make_toy_runner(tmp_path, 4, runner_cls=GuardedRunner, resume=True).train()  # the same process, next run


def test_tools_train_refuses_without_a_traceback(live_run, repo_root):
    work_dir, pid, _ = live_run
    result = subprocess.run([sys.executable, 'tools/train.py', 'configs/pinas/supernet_mnist5k.py', '--work-dir',
                             str(work_dir)], cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 1 and 'Traceback' not in result.stderr, result.stderr[-2000:]
    assert f'error: work dir {work_dir} is in use by another run (pid {pid} on ' in result.stderr
    assert os.listdir(work_dir) == [LOCK_FILE]


def save_unrelated_weights(path):
    torch.save(dict(state_dict={'encoder.weight': torch.zeros(3, 3), 'encoder.bias': torch.zeros(3)}), path)


def test_load_from_weights_of_another_model_is_refused_with_what_was_expected_and_found(tmp_path, make_toy_runner):
    save_unrelated_weights(tmp_path / 'other.pth')
    runner = make_toy_runner(tmp_path / 'run', 2, runner_cls=GuardedRunner, load_from=str(tmp_path / 'other.pth'))
    with pytest.raises(CheckpointError, match=r"holds 0 of the model's 2 weights .*expects e.g. \['linear.weight', "
                                              r"'linear.bias'\]; the file has e.g. \['encoder.weight'"):
        runner.train()


def test_weights_of_another_shape_do_not_count_and_partial_loading_is_a_choice(tmp_path, make_toy_runner):
    torch.save(dict(state_dict={'linear.weight': torch.ones(1, 4), 'linear.bias': torch.ones(2)}), tmp_path / 'a.pth')
    with pytest.raises(CheckpointError, match="holds 1 of the model's 2 weights"):
        make_toy_runner(tmp_path / 'strict', 2, runner_cls=GuardedRunner, load_from=str(tmp_path / 'a.pth'),
                        load_from_min_shared=0.75).train()
    runner = make_toy_runner(tmp_path / 'partial', 2, runner_cls=GuardedRunner, load_from=str(tmp_path / 'a.pth'))
    runner.load_or_resume()  # half of the weights, the default threshold: loaded with mmengine's warning
    assert torch.equal(runner.model.linear.weight.detach(), torch.ones(1, 4))


def test_resume_from_weights_only_says_so(tmp_path, make_toy_runner):
    save_unrelated_weights(tmp_path / 'weights.pth')
    runner = make_toy_runner(tmp_path / 'run', 2, runner_cls=GuardedRunner, resume=True,
                             load_from=str(tmp_path / 'weights.pth'))
    with pytest.raises(CheckpointError, match=r'cannot resume from .*weights.pth: it holds no training state '
                                              r'\(no meta.epoch, meta.iter, optimizer\), only weights; start a new '
                                              r'run from its weights with load_from='):
        runner.train()


def test_shipped_configs_name_it_and_tools_build_it_where_a_config_names_no_runner(repo_root, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from pinas_mm.engine.runner import build_runner
    assert Config.fromfile(f'{repo_root}/configs/pinas/supernet_mnist5k.py').runner_type == 'GuardedRunner'
    toy = dict(model=torch.nn.Linear(2, 2), work_dir=str(tmp_path), default_scope='mmrazor',
               load_from_min_shared=0.25)
    runner = build_runner(Config(toy))  # e.g. an mmdet config: no runner_type
    assert type(runner) is GuardedRunner and runner.load_from_min_shared == 0.25
    assert type(build_runner(Config(dict(toy, runner_type='Runner', work_dir=str(tmp_path / 'b'))))) is Runner


def test_a_missing_load_from_names_the_file_and_the_fix(tmp_path, make_toy_runner):
    runner = make_toy_runner(tmp_path / 'run', 2, runner_cls=GuardedRunner, load_from=str(tmp_path / 'epoch_10.pth'))
    with pytest.raises(CheckpointError, match=r'epoch_10.pth does not exist: .*--cfg-options load_from=PATH'):
        runner.train()


def test_resume_finds_the_newest_checkpoint_when_a_kill_emptied_last_checkpoint(tmp_path, make_toy_runner):
    make_toy_runner(tmp_path, 4, runner_cls=GuardedRunner).train()
    (tmp_path / 'last_checkpoint').write_text('')  # mmengine rewrites it in place after each save
    runner = make_toy_runner(tmp_path, 6, runner_cls=GuardedRunner, resume=True)
    runner.load_or_resume()
    assert runner.iter == 4


def test_a_second_runner_in_the_same_process_is_refused_and_the_first_keeps_its_lock(tmp_path, make_toy_runner):
    first = make_toy_runner(tmp_path, 2, runner_cls=GuardedRunner)
    with pytest.raises(WorkDirBusyError, match=f'pid {os.getpid()}, this process'):
        make_toy_runner(tmp_path, 2, runner_cls=GuardedRunner)
    process = subprocess.run([sys.executable, '-c', HOLD_LOCK, str(tmp_path)], capture_output=True, text=True)
    assert process.returncode != 0 and 'locked' not in process.stdout  # still held: its lockf fails
    first.train()
