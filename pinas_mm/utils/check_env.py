"""Check that the installed stack is one pinas_mm supports, and refuse only what cannot work.

Run before anything OpenMMLab is imported, so that a torch out of range, a torchvision built for another torch or a
missing toolbox ends in one message that names each problem and says what to run, instead of a traceback from deep
inside a toolbox. mmcv without its compiled ops is enough for supernet training, search and export, which use none:
it gets a one-line notice here, and :func:`require_compiled_ops` refuses it where mmdet / mmseg models need the ops.
``tools/setup_env.sh`` ends by printing the versions found (:func:`print_versions`, through
``pinas_mm.compat.print_environment``, which adds the fixes applied).

This module owns the version helpers (:func:`release`, :func:`at_least`, :func:`is_installed`) and imports nothing
from the rest of pinas_mm: ``pinas_mm.compat`` uses it, never the other way round.
"""
import importlib
import importlib.abc
import importlib.metadata as metadata
import logging
import sys
import warnings

from packaging.requirements import Requirement
from packaging.version import Version

FIX = 'Run `make install` in the pinas_mm repository (see docs/en/get_started.md, "Installation").'
BUILD_OPS = ('build them against the installed torch: `pip uninstall -y mmcv mmcv-lite && MMCV_WITH_OPS=1 pip install '
             '--no-build-isolation mmcv==2.1.0` (or `make install`), or `mim install mmcv==2.1.0` where OpenMMLab '
             'publishes a wheel for your torch and CUDA (torch 2.0 / 2.1 with CUDA 11.8 / 12.1); see '
             'docs/en/get_started.md, "GPU clusters"')
# The requirements of pinas_mm whose installed versions are checked against its supported ranges (install_requires).
CHECKED = ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmpretrain', 'mmdet', 'mmsegmentation', 'mmrazor')
# The first torch release built against numpy 2; older ones crash on numpy 2 arrays.
FIRST_TORCH_FOR_NUMPY_2 = Version('2.3')

logger = logging.getLogger('pinas_mm')


class DependencyError(ImportError):
    """The installed packages cannot run pinas_mm (or the requested part of it); the message says what to run."""


def release(version):
    """``2.13.0+cu130`` -> ``Version('2.13.0')``: local build tags do not change what is supported."""
    return Version(Version(version).base_version)


def is_installed(name):
    """Whether a distribution called ``name`` is installed."""
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def at_least(name, version):
    """Whether the installed release of ``name`` (build tags such as ``+cu130`` ignored) is ``version`` or later."""
    return release(metadata.version(name)) >= Version(version)


def matching_torchvision(torch_version):
    """The torchvision minor built for a torch 2.x release: 0.16 for 2.1, ..., 0.28 for 2.13."""
    torch_release = release(torch_version)
    return f'0.{torch_release.minor + 15}'


def _supported_ranges():
    """The torch/OpenMMLab ranges of the installed pinas_mm distribution: torch and torchvision from its
    install_requires, the OpenMMLab packages from its ``mim`` extra (OpenMMLab's convention, so that mmcv may be
    installed as ``mmcv`` or as ``mmcv-lite``); setup.py reads both from requirements/."""
    try:
        requires = metadata.requires('pinas_mm') or []
    except metadata.PackageNotFoundError:
        raise DependencyError(f'pinas_mm is imported but not installed. {FIX}') from None
    ranges = [Requirement(r) for r in requires]
    return [r for r in ranges if r.name in CHECKED and (not r.marker or r.marker.evaluate({'extra': 'mim'}))]


def installed_version(name):
    """The installed version of ``name``; mmcv without its compiled ops is published as the distribution
    ``mmcv-lite`` (and mmcv 2.1.0 built with ``MMCV_WITH_OPS=0`` names itself so)."""
    for distribution in (name, f'{name}-lite') if name == 'mmcv' else (name, ):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    raise metadata.PackageNotFoundError(name)


def check_dependencies():
    """Raise :class:`DependencyError` naming every missing or unsupported package; return the versions found."""
    found, problems = {}, []
    for req in _supported_ranges():
        try:
            version = installed_version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f'{req.name} is not installed (need {req.name}{req.specifier}).')
            continue
        found[req.name] = version
        if not req.specifier.contains(release(version), prereleases=True):
            problems.append(f'{req.name} {version} is installed, need {req.name}{req.specifier}.')
    if not problems:
        problems += _check_pairs(found)
    if not problems:
        problems += _check_imports()
    if problems:
        raise DependencyError('pinas_mm cannot run with the installed packages:\n  - '
                              + '\n  - '.join(problems) + f'\n{FIX}')
    return found


class _ExplainMissingOps(importlib.abc.MetaPathFinder):
    """Turns the bare ``No module named 'mmcv._ext'`` that an mmdet / mmseg model built through the API stops with
    into what to install; it stays a ``ModuleNotFoundError``, so code that tries the import still works."""

    def find_spec(self, name, path=None, target=None):
        if name == 'mmcv._ext':
            raise ModuleNotFoundError(f"No module named 'mmcv._ext': mmcv {installed_version('mmcv')} has no compiled "
                                      f'ops, which mmdet and mmseg models need: {BUILD_OPS}.', name=name)
        return None


def notice_missing_ops():
    """Say once, at import, that mmcv has no compiled ops (enough for the supernet, search and export), instead of
    mmcv's own import warning, which names a module pinas_mm does not use and comes back with every tool; and
    explain the ops' import error where a model needs them."""
    if has_compiled_ops():
        return
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    if not any(isinstance(finder, _ExplainMissingOps) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ExplainMissingOps())
    logger.warning('pinas_mm: mmcv %s has no compiled ops: supernet training, search and export work; the mmdet / '
                   'mmseg transfer configs need them (docs/en/get_started.md, "GPU clusters").',
                   installed_version('mmcv'))


def _check_pairs(found):
    """Versions that are each in range but do not work together."""
    problems = []
    torchvision = matching_torchvision(found['torch'])
    if release(found['torchvision']) not in Requirement(f'torchvision=={torchvision}.*').specifier:
        problems.append(f'torchvision {found["torchvision"]} is installed for torch {found["torch"]}, which needs '
                        f'torchvision {torchvision}.x (`pip install "torchvision=={torchvision}.*"` keeps the torch).')
    numpy = metadata.version('numpy')
    if release(numpy).major >= 2 and release(found['torch']) < FIRST_TORCH_FOR_NUMPY_2:
        problems.append(f'numpy {numpy} is installed, but torch {found["torch"]} was built for numpy 1 '
                        f'(numpy 2 needs torch >= {FIRST_TORCH_FOR_NUMPY_2}): `pip install "numpy<2"`.')
    return problems


def _check_imports():
    """Failures that only show at import: a torch build that torchvision cannot load with."""
    try:
        importlib.import_module('torchvision')
    except Exception as exc:  # torchvision raises RuntimeError when its C++ ops do not match torch
        import torch
        return [f'torchvision cannot load with torch {torch.__version__} ({exc}). It needs the torch build it was '
                'built for: the PyPI torch 2.13.0 for torchvision 0.28.0, not the CPU-only "+cpu" wheel.']
    return []


def has_compiled_ops():
    """Whether mmcv's compiled ops (RoIAlign, NMS, ...) load with the installed torch."""
    try:
        importlib.import_module('mmcv._ext')
    except ImportError:
        return False
    return True


def require_compiled_ops(what):
    """Refuse ``what`` (e.g. 'mmdet models') with a message saying how to build mmcv's ops, when they are missing."""
    if not has_compiled_ops():
        import mmcv
        raise DependencyError(f'{what} need mmcv\'s compiled ops, and mmcv {mmcv.__version__} has none: {BUILD_OPS}.')


def require_compiled_ops_for(cfg):
    """Refuse a config whose model is an mmdet / mmseg one (by default scope or model type) without mmcv's ops."""
    model_type = str((cfg.get('model') or {}).get('type', ''))
    for toolbox in ('mmdet', 'mmseg'):
        if cfg.get('default_scope') == toolbox or model_type.startswith(f'{toolbox}.'):
            require_compiled_ops(f'{toolbox} models ({cfg.filename})')


def print_versions():
    """Print the installed stack: the checked packages, numpy, whether torch sees a GPU, and mmcv's ops."""
    for name, version in check_dependencies().items():
        print(f'{name:15s} {version}')
    import numpy
    import torch
    print(f'{"numpy":15s} {numpy.__version__}')
    print(f'{"GPU available":15s} {torch.cuda.is_available()}')
    if has_compiled_ops():
        from mmcv.ops import get_compiling_cuda_version
        print(f'{"mmcv ops":15s} compiled (CUDA: {get_compiling_cuda_version()})')
    else:
        print(f'{"mmcv ops":15s} none (supernet, search and export only)')
