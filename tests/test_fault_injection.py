# Copyright (c) pinas_mm contributors. All rights reserved.
"""Fault injection (benchmarks/fault_injection.py, shortened): training killed with kill -9 twice (once while a
checkpoint is written, once at a seeded random moment) and a search killed once, each resumed with --resume: the
final state of an uninterrupted run, every checkpoint whole after every kill, no temporary file left behind (not yet
for a killed checkpoint write: expected to fail until the file backend removes it)."""
import os.path as osp
import random
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
import fault_injection  # noqa: E402


@pytest.fixture(scope='module')
def training(mnist5k, tmp_path_factory):
    def plan(wall):  # while a checkpoint is written, then at a seeded random moment
        return [('Saving checkpoint', 'file'), (None, random.Random(0).uniform(0.2, 1.0) * wall)]

    return fault_injection.training_trial(str(tmp_path_factory.mktemp('training')), mnist5k, epochs=2, images=64,
                                          kills=2, plan=plan)


def test_killed_training_resumes_into_the_uninterrupted_state(training):
    assert [kill['outcome'] for kill in training['kills']] == ['killed'] * len(training['kills'])
    assert training['kills'][0]['temporary_files']  # killed while writing a checkpoint
    assert training['differing'] == []  # every model and optimizer tensor, and the iteration
    incomplete = [problem for problem in training['problems'] if 'left behind' not in problem]
    assert incomplete == []  # every epoch_*.pth loads, last_checkpoint names one, after every kill and at the end


@pytest.mark.xfail(strict=True, reason="pinas_mm.fileio's AtomicLocalBackend leaves the temporary file of a write "
                   'that kill -9 interrupted; a later write of the same file does not remove it yet')
def test_no_temporary_file_is_left_behind(training):
    assert training['problems'] == []


def test_killed_search_resumes_into_the_same_generations_and_best_subnet(mnist5k, pinas_checkpoint, tmp_path):
    # at a seeded random moment of the second generation, once the first one's state is saved: --resume clears
    # load_from, so a search killed before its first generation was saved cannot find its supernet again
    def plan(wall):
        return [('Generation [2/2] candidate', random.Random(0).uniform(0, 0.1) * wall)]

    search = fault_injection.search_trial(str(tmp_path), mnist5k, pinas_checkpoint, generations=2, kills=1, plan=plan)
    assert [kill['outcome'] for kill in search['kills']] == ['killed']
    assert search['matched'] and search['problems'] == [], search
