# Copyright (c) pinas_mm contributors. All rights reserved.
"""A wrong or missing package must end in one message that lists each problem and says what to run."""
import importlib
import importlib.metadata as metadata

import pytest

from pinas_mm.utils import check_env
from pinas_mm.utils.check_env import DependencyError, check_dependencies


def test_installed_stack_matches_the_pins():
    found = check_dependencies()
    assert set(found) == set(check_env.CHECKED)
    assert found['torch'].startswith('2.13.0') and found['mmcv'] == '2.1.0'


def fake_versions(monkeypatch, **versions):
    """Pretend the given packages have these versions (None: not installed)."""
    real_version = metadata.version

    def version(name):
        if name not in versions:
            return real_version(name)
        if versions[name] is None:
            raise metadata.PackageNotFoundError(name)
        return versions[name]

    monkeypatch.setattr(check_env.metadata, 'version', version)


@pytest.mark.parametrize('torch_version', ['2.13.0+cpu', '2.5.1'])
def test_wrong_torch_says_what_to_run(monkeypatch, torch_version):
    fake_versions(monkeypatch, torch=torch_version)
    with pytest.raises(DependencyError) as error:
        check_dependencies()
    message = str(error.value)
    assert f'torch {torch_version} is installed, need torch' in message
    assert 'make install' in message


def test_every_missing_or_wrong_toolbox_is_listed_at_once(monkeypatch):
    fake_versions(monkeypatch, mmdet=None, mmrazor='1.1.0')
    with pytest.raises(DependencyError) as error:
        check_dependencies()
    message = str(error.value)
    assert 'mmdet is not installed (need mmdet==3.3.0)' in message
    assert 'mmrazor 1.1.0 is installed, need mmrazor==1.0.0' in message


def fail_import(monkeypatch, module, error):
    """Make ``importlib.import_module(module)`` raise ``error`` inside check_env."""
    real_import = importlib.import_module

    def import_module(name, *args):
        if name == module:
            raise error
        return real_import(name, *args)

    monkeypatch.setattr(check_env.importlib, 'import_module', import_module)


def test_mmcv_without_compiled_ops_is_reported(monkeypatch):
    fail_import(monkeypatch, 'mmcv._ext', ImportError('libmmcv_ext.so: cannot open shared object file'))
    with pytest.raises(DependencyError, match='mmcv has no compiled ops .*MMCV_WITH_OPS=1'):
        check_dependencies()


def test_torchvision_that_cannot_load_is_reported(monkeypatch):
    fail_import(monkeypatch, 'torchvision', RuntimeError('operator torchvision::nms does not exist'))
    with pytest.raises(DependencyError, match='torchvision cannot load .*not the CPU-only "\\+cpu" wheel'):
        check_dependencies()
