# Copyright (c) pinas_mm contributors. All rights reserved.
"""A wrong or missing package must end in one message that lists each problem and says what to run."""
import importlib
import sys
import warnings
from pathlib import Path

import pytest

from pinas_mm.utils import check_env
from pinas_mm.utils.check_env import DependencyError, check_dependencies, require_compiled_ops_for


def test_installed_stack_is_in_the_supported_ranges():
    found = check_dependencies()
    assert set(found) == set(check_env.CHECKED)
    assert check_env.release(found['torch']) >= check_env.Version('2.1') and found['mmcv'].startswith('2.1.')


@pytest.mark.parametrize('torch_version, torchvision', [('2.1.2', '0.16.2'), ('2.4.1+cu121', '0.19.1+cu121'),
                                                        ('2.11.0+cu130', '0.26.0'), ('2.13.0', '0.28.0')])
def test_every_torch_of_the_range_is_accepted_with_its_torchvision(fake_versions, torch_version, torchvision):
    fake_versions(torch=torch_version, torchvision=torchvision, numpy='1.26.4')
    assert check_dependencies()['torch'] == torch_version


@pytest.mark.parametrize('torch_version', ['2.0.1', '2.14.1'])
def test_torch_out_of_range_says_what_to_run(fake_versions, torch_version):
    fake_versions(torch=torch_version)
    with pytest.raises(DependencyError) as error:
        check_dependencies()
    message = str(error.value)
    assert f'torch {torch_version} is installed, need torch<2.14,>=2.1' in message
    assert 'make install' in message


def test_torchvision_of_another_torch_is_named_with_the_one_it_needs(fake_versions):
    fake_versions(torch='2.4.1', torchvision='0.28.0', numpy='1.26.4')
    with pytest.raises(DependencyError, match=r'torchvision 0\.28\.0 is installed for torch 2\.4\.1, which needs '
                                              r'torchvision 0\.19\.x'):
        check_dependencies()


def test_numpy_2_with_a_torch_built_for_numpy_1_is_refused(fake_versions):
    fake_versions(torch='2.2.2', torchvision='0.17.2', numpy='2.1.0')
    with pytest.raises(DependencyError, match=r'numpy 2\.1\.0 is installed, but torch 2\.2\.2 was built for numpy 1'):
        check_dependencies()
    fake_versions(torch='2.3.0', torchvision='0.18.0', numpy='2.1.0')
    check_dependencies()


def test_every_missing_or_wrong_toolbox_is_listed_at_once(fake_versions):
    fake_versions(mmdet=None, mmrazor='1.1.0')
    with pytest.raises(DependencyError) as error:
        check_dependencies()
    message = str(error.value)
    assert 'mmdet is not installed (need mmdet<3.4.0,>=3.3.0)' in message
    assert 'mmrazor 1.1.0 is installed, need mmrazor==1.0.0' in message


def fail_import(monkeypatch, module, error):
    """Make ``importlib.import_module(module)`` raise ``error`` inside check_env."""
    real_import = importlib.import_module

    def import_module(name, *args):
        if name == module:
            raise error
        return real_import(name, *args)

    monkeypatch.setattr(check_env.importlib, 'import_module', import_module)


def test_mmcv_without_compiled_ops_is_allowed_with_one_notice_instead_of_mmcvs_own(monkeypatch, caplog):
    fail_import(monkeypatch, 'mmcv._ext', ImportError('libmmcv_ext.so: cannot open shared object file'))
    monkeypatch.setattr(warnings, 'filters', list(warnings.filters))  # the filter notice_missing_ops installs
    with caplog.at_level('WARNING', logger='pinas_mm'):
        check_dependencies()
        assert not caplog.records  # print_versions (make install) checks again: its table says it, no second notice
        check_env.notice_missing_ops()
    assert len(caplog.records) == 1
    assert 'has no compiled ops: supernet training, search and export work' in caplog.records[0].getMessage()
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn('Fail to import ``MultiScaleDeformableAttention`` from ``mmcv.ops.multi_scale_deform_attn``, '
                      'You should install ``mmcv`` rather than ``mmcv-lite`` if you need this module. ')
    assert not caught


def test_an_ops_import_says_what_to_install_when_mmcv_has_none(monkeypatch):
    monkeypatch.setattr(check_env, 'has_compiled_ops', lambda: False)
    monkeypatch.setattr(warnings, 'filters', list(warnings.filters))
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.delitem(sys.modules, 'mmcv._ext', raising=False)
    check_env.notice_missing_ops()
    check_env.notice_missing_ops()  # once only
    assert sum(type(finder).__name__ == '_ExplainMissingOps' for finder in sys.meta_path) == 1
    with pytest.raises(ModuleNotFoundError, match=r"No module named 'mmcv._ext': mmcv .* has no compiled ops, which "
                                                  r'mmdet and mmseg models need: build them'):
        importlib.import_module('mmcv._ext')  # as mmcv.ops loads its extension (mmcv.utils.ext_loader)


@pytest.mark.parametrize('config, refused', [
    (dict(default_scope='mmdet', model=dict(type='MaskRCNN')), 'mmdet models'),
    (dict(default_scope='mmrazor', model=dict(type='mmseg.EncoderDecoder')), 'mmseg models'),
    (dict(default_scope='mmrazor', model=dict(type='PiNAS')), None),
])
def test_only_dense_prediction_configs_refuse_mmcv_without_ops(monkeypatch, tmp_path, config, refused):
    from mmengine.config import Config
    Config(config).dump(tmp_path / 'user_config.py')
    cfg = Config.fromfile(tmp_path / 'user_config.py')
    require_compiled_ops_for(cfg)  # ops are compiled here
    fail_import(monkeypatch, 'mmcv._ext', ImportError('libmmcv_ext.so: cannot open shared object file'))
    if refused is None:
        require_compiled_ops_for(cfg)
        return
    with pytest.raises(DependencyError) as error:
        require_compiled_ops_for(cfg)
    message = str(error.value)
    assert f"{refused} ({tmp_path / 'user_config.py'}) need mmcv's compiled ops" in message
    assert 'MMCV_WITH_OPS=1' in message and 'mim install mmcv==2.1.0' in message


def test_torchvision_that_cannot_load_is_reported(monkeypatch):
    fail_import(monkeypatch, 'torchvision', RuntimeError('operator torchvision::nms does not exist'))
    with pytest.raises(DependencyError, match='torchvision cannot load .*not the CPU-only "\\+cpu" wheel'):
        check_dependencies()


def requirement_lines(name):
    from packaging.requirements import Requirement
    text = (Path(__file__).parents[1] / 'requirements' / name).read_text()
    return {r.name: r for r in (Requirement(line.split('#')[0]) for line in text.splitlines()
                                if line.split('#')[0].strip())}


def test_what_make_install_pins_is_inside_the_supported_ranges():
    supported = {**requirement_lines('torch.txt'), **requirement_lines('mminstall.txt')}
    default_torch = requirement_lines('build.txt')
    tested = requirement_lines('tested.txt')
    pins = [*tested.items(), *((name, default_torch[name]) for name in ('torch', 'torchvision'))]
    for name, pin in pins:
        version = next(spec.version for spec in pin.specifier if spec.operator == '==')
        assert supported[name].specifier.contains(version), (name, version)
    torch_version = next(spec.version for spec in default_torch['torch'].specifier if spec.operator == '==')
    assert default_torch['torchvision'].specifier.contains(f'{check_env.matching_torchvision(torch_version)}.0')
