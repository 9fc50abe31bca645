"""Check that the installed stack is the one pinas_mm is built and tested on.

Run before anything OpenMMLab is imported, so that a wrong torch, a missing toolbox or an mmcv without its compiled
ops ends in one message that says what to run, instead of a traceback from deep inside a toolbox.
``tools/setup_env.sh`` ends by printing the versions found (:func:`print_versions`).
"""
import importlib
import importlib.metadata as metadata

from packaging.requirements import Requirement

FIX = 'Run `make install` in the pinas_mm repository (see README, "Installation").'
# The requirements of pinas_mm whose versions must match exactly what the compatibility fixes were written for.
CHECKED = ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmpretrain', 'mmdet', 'mmsegmentation', 'mmrazor')


class DependencyError(ImportError):
    """The installed packages cannot run pinas_mm; the message says what to run."""


def _pinned_requirements():
    """The torch/OpenMMLab pins of the installed pinas_mm distribution (setup.py reads them from requirements/)."""
    try:
        requires = metadata.requires('pinas_mm') or []
    except metadata.PackageNotFoundError:
        raise DependencyError(f'pinas_mm is imported but not installed. {FIX}') from None
    pins = [Requirement(r) for r in requires]
    return [r for r in pins if r.name in CHECKED and not r.marker]


def check_dependencies():
    """Raise :class:`DependencyError` naming every missing or mismatched package; return the versions found."""
    found, problems = {}, []
    for req in _pinned_requirements():
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f'{req.name} is not installed (need {req}).')
            continue
        found[req.name] = version
        if not req.specifier.contains(version, prereleases=True):
            problems.append(f'{req.name} {version} is installed, need {req}.')
    if not problems:
        problems += _check_imports()
    if problems:
        raise DependencyError('pinas_mm cannot run with the installed packages:\n  - '
                                + '\n  - '.join(problems) + f'\n{FIX}')
    return found


def _check_imports():
    """Failures that only show at import: a torch build torchvision cannot load with, mmcv without compiled ops."""
    problems = []
    try:
        importlib.import_module('torchvision')
    except Exception as exc:  # torchvision raises RuntimeError when its C++ ops do not match torch
        import torch
        problems.append(f'torchvision cannot load with torch {torch.__version__} ({exc}); it needs the PyPI build of '
                        'torch 2.13.0, not the CPU-only "+cpu" wheel.')
    try:
        importlib.import_module('mmcv._ext')
    except ImportError as exc:
        problems.append(f'mmcv has no compiled ops ({exc}); uninstall it (`pip uninstall -y mmcv mmcv-lite`) and '
                        'rebuild it with MMCV_WITH_OPS=1.')
    return problems


def print_versions():
    for name, version in check_dependencies().items():
        print(f'{name:15s} {version}')
    import torch
    from mmcv.ops import get_compiling_cuda_version
    print(f'{"GPU available":15s} {torch.cuda.is_available()}')
    print(f'{"mmcv CUDA ops":15s} {get_compiling_cuda_version()}')
