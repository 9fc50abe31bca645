# Copyright (c) pinas_mm contributors. All rights reserved.
"""Each fix in pinas_mm/compat.py, checked by the behaviour it restores, and applied only where it is needed."""
import pickle
import re
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import yaml


@pytest.mark.parametrize('versions, needed, not_needed', [
    (dict(torch='2.13.0+cu130', numpy='2.4.6', mmcls=None),
     ['load_mmengine_checkpoints_weights_only', 'hue_shifts_wrap_around', 'alias_mmcls_to_mmpretrain'], []),
    (dict(torch='2.6.0', numpy='2.0.0'), ['load_mmengine_checkpoints_weights_only', 'hue_shifts_wrap_around'], []),
    (dict(torch='2.5.1', numpy='1.26.4'), [], ['load_mmengine_checkpoints_weights_only', 'hue_shifts_wrap_around']),
    (dict(torch='2.1.2+cu121', numpy='1.26.4', mmcls='1.0.0rc6'), [],
     ['load_mmengine_checkpoints_weights_only', 'hue_shifts_wrap_around', 'alias_mmcls_to_mmpretrain']),
])
def test_each_fix_applies_only_to_the_versions_that_need_it(fake_versions, versions, needed, not_needed):
    from pinas_mm.compat import needed_fixes
    fake_versions(**versions)
    names = {fix.__name__ for fix in needed_fixes()}
    assert set(needed) <= names and not set(not_needed) & names
    # the fixes every supported stack needs
    assert {'stub_mmrazor_quantization_backends', 'plain_str_choices', 'distributed_without_gpus'} <= names


def test_the_compatibility_guide_lists_every_fix_with_the_versions_it_applies_to():
    from pinas_mm.compat import FIXES
    guide = (Path(__file__).parents[1] / 'docs' / 'en' / 'advanced_guides' / 'compatibility.md').read_text()
    table = guide[guide.index('| problem | fix | applies to |'):guide.index('## How the pieces fit')]
    rows = [row for row in table.splitlines() if row.startswith('| ') and '`' in row]
    assert len(rows) == len(FIXES)  # no row of a fix that is gone
    for fix in FIXES:
        assert re.search(rf'\|[^\n]*`{fix.__name__}`[^\n]*\| {re.escape(fix.applies_to)} \|', table), fix.__name__


def test_the_environment_check_never_imports_the_fixes():
    """One direction: compat uses check_env's version helpers; check_env, run first, imports no part of pinas_mm."""
    import ast
    import pinas_mm.compat as compat
    from pinas_mm.utils import check_env
    tree = ast.parse(Path(check_env.__file__).read_text())
    imported = {'.' * node.level + (node.module or '') for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith(('pinas_mm', '.'))}, imported
    assert compat.at_least is check_env.at_least and compat.is_installed is check_env.is_installed


def test_mmrazor_imports_with_quantization_backends_stubbed():
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    from mmrazor.models.algorithms import SPOS  # noqa: F401
    stub = sys.modules['mmrazor.structures.quantization.backend_config']
    assert stub.BackendConfigs == {}


def test_joblib_dependency_of_mmrazor_is_installed():
    from mmrazor.models.task_modules.predictor.handler import base_handler
    assert callable(base_handler.dump)


def test_mmcls_names_are_served_by_mmpretrain():
    from mmcls.datasets.transforms.formatting import PackClsInputs
    from mmcls.structures import ClsDataSample
    from mmpretrain.datasets.transforms.formatting import PackInputs
    from mmpretrain.models import ImageClassifier
    from mmpretrain.structures import DataSample
    assert ClsDataSample is DataSample and PackClsInputs is PackInputs
    # mmrazor's searchable backbones and classifiers are real classes, not import placeholders
    from mmrazor.models.architectures.backbones.searchable_shufflenet_v2 import SearchableShuffleNetV2
    from mmrazor.models.architectures.classifiers.image import SearchableImageClassifier
    from mmpretrain.models.backbones.base_backbone import BaseBackbone
    assert issubclass(SearchableImageClassifier, ImageClassifier)
    assert issubclass(SearchableShuffleNetV2, BaseBackbone)


class TwoLayerSpace(nn.Module):

    def __init__(self):
        super().__init__()
        from mmrazor.models.mutables import OneShotMutableOP
        conv = dict(type='torch.nn.Conv2d', in_channels=3, out_channels=3, kernel_size=1)
        self.layer1 = OneShotMutableOP(candidates=dict(conv=conv, identity=dict(type='torch.nn.Identity')))
        self.layer2 = OneShotMutableOP(candidates=dict(conv=conv, identity=dict(type='torch.nn.Identity')))


def test_sampled_choices_are_plain_str_and_survive_candidates_and_export(tmp_path):
    from mmrazor.models.mutators import NasMutator
    from mmrazor.structures import convert_fix_subnet, export_fix_subnet
    from mmrazor.structures.subnet import Candidates
    model = TwoLayerSpace()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    choices = mutator.sample_choices()
    assert all(type(choice) is str for choice in choices.values())
    assert Candidates([choices]).subnets == [choices]  # str(dict) -> eval round trip
    mutator.set_choices(choices)
    fix_subnet, _ = export_fix_subnet(model)
    text = yaml.safe_dump(convert_fix_subnet(fix_subnet))  # as mmrazor saves subnets; safe_dump refuses numpy
    assert yaml.safe_load(text) == {name: dict(chosen=choice) for name, choice in zip(
        ('layer1', 'layer2'), choices.values())}


def test_mmengine_checkpoints_load_and_only_mmengine_opens_the_allowlist(tmp_path, make_toy_runner):
    from mmengine.runner.checkpoint import _load_checkpoint
    make_toy_runner(tmp_path, max_iters=2).train()
    checkpoint = tmp_path / 'iter_2.pth'
    loaded = _load_checkpoint(str(checkpoint), map_location='cpu')
    assert {'meta', 'state_dict', 'optimizer', 'message_hub'} <= set(loaded)
    from pinas_mm.compat import at_least
    if at_least('torch', '2.6'):  # the allowlist is not global: a plain torch.load still refuses non-tensor globals
        with pytest.raises(pickle.UnpicklingError):
            torch.load(checkpoint)


def test_pytorch_launcher_and_ddp_work_without_gpus(monkeypatch):
    from mmengine.dist import get_world_size, init_dist
    from mmengine.model import MMDistributedDataParallel
    if torch.cuda.is_available():
        pytest.skip('the fix only applies where torch sees no GPU')
    for name, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                            MASTER_PORT=str(29400 + torch.randint(0, 500, ()).item())).items():
        monkeypatch.setenv(name, value)
    init_dist('pytorch', backend='gloo')
    try:
        assert get_world_size() == 1
        # what mmengine's runner passes when it wraps the model
        wrapped = MMDistributedDataParallel(module=nn.Linear(2, 1), device_ids=[0], broadcast_buffers=False)
        assert wrapped.device_ids is None
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_negative_hue_shifts_wrap_around_as_in_numpy_1(backend):  # numpy 1 runs mmcv unchanged, and so this test
    import mmcv
    import numpy as np
    from mmpretrain.datasets.transforms import ColorJitter
    image = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    # a shift of -0.1 is a shift of +231/256 of the hue circle: the same as numpy 1 computed
    shifted = mmcv.adjust_hue(image, -0.1, backend=backend)
    assert not np.array_equal(shifted, image)
    np.testing.assert_array_equal(shifted, mmcv.adjust_hue(image, np.float64(-0.1), backend=backend))
    jitter = ColorJitter(hue=0.1, backend=backend)  # MoCo-v2's, draws negative shifts half of the time
    for _ in range(20):
        jitter(dict(img=image.copy()))
