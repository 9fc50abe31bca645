# Copyright (c) pinas_mm contributors. All rights reserved.
"""benchmarks/official_parity.py without the official code: its loader of official files (on a fake package tree)
and its comparison rows and table merging."""
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'benchmarks'))
import official_parity as parity  # noqa: E402

REGISTRY = "from openselfsup.utils import Registry\nMODELS = Registry('model')\n"
OLD_STACK_MODULE = '''from mmcv.cnn import kaiming_init
from mmcv.runner import OptimizerHook
from torch._six import container_abcs
from .registry import MODELS


@MODELS.register_module
class Old(OptimizerHook):
    init = kaiming_init
    abcs = container_abcs
'''


def test_official_imports_skip_inits_shim_the_old_stack_and_restore_sys_modules(tmp_path):
    models = tmp_path / 'openselfsup' / 'models'
    models.mkdir(parents=True)
    for init in (tmp_path / 'openselfsup' / '__init__.py', models / '__init__.py'):
        init.write_text("raise ImportError('the package __init__ imports every model: never run')\n")
    (models / 'registry.py').write_text(REGISTRY)
    (models / 'old.py').write_text(OLD_STACK_MODULE)
    before = {name: sys.modules.get(name) for name in ('mmcv.cnn', 'mmcv.runner', 'torch._six', 'apex')}
    with parity.official_imports(str(tmp_path / 'openselfsup')) as load:
        old = load('models.old')
        registry = load('models.registry')
    assert registry.MODELS.module_dict == {'Old': old.Old}
    assert old.Old().every_n_iters(type('Runner', (), {'iter': 0}), 1)  # the hook base's one method in use
    assert not [name for name in sys.modules if name.split('.')[0] == 'openselfsup']
    assert {name: sys.modules.get(name) for name in before} == before


def test_rows_count_absent_tensors_and_merge_over_steps():
    a = torch.zeros(3, dtype=torch.float64)
    first = parity.row('start', 'gradients', 1, [(a, a + 1e-12), (None, None), (a, None)], 1e-9)
    assert (first['compared'], first['none_in_both'], first['mismatched'], first['ok']) == (1, 1, 1, False)
    assert abs(first['max_abs_diff'] - 1e-12) < 1e-15
    second = parity.row('start', 'gradients', 2, [(a, a + 2e-10)], 1e-9)
    assert second['ok']
    merged, = parity.summarise([first, second])
    assert merged['steps'] == [1, 2] and merged['compared'] == 2 and merged['mismatched'] == 1
    assert abs(merged['max_abs_diff'] - 2e-10) < 1e-15 and not merged['ok']
    too_far = parity.row('start', 'loss', 1, [(torch.tensor(1.), torch.tensor(1. + 1e-6))], 1e-9)
    assert not too_far['ok'] and too_far['mismatched'] == 0
    large = parity.row('start', 'gradients', 1, [(a + 1e3, a + 1e3 + 1e-7)], 1e-9)  # relative above magnitude 1
    assert large['ok'] and large['max_abs_diff'] > 1e-9 > large['max_scaled_diff']
