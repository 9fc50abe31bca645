# Copyright (c) pinas_mm contributors. All rights reserved.
"""Every fix the OpenMMLab stack needs on the supported torch (2.1-2.13) and numpy (1.x, 2.x), in one place.

``pinas_mm/__init__.py`` imports this module right after the environment check (``pinas_mm.utils.check_env``, whose
version helpers it uses; the check never imports this module), before anything imports ``mmrazor.models``;
:func:`apply_all` runs each fix that the installed versions need, once, without touching files in site-packages. Each
fix is registered with :func:`fix`, which records the versions it applies to and the check that decides it; each has a
test in ``tests/test_compat.py``. A fix that is no longer needed (a newer upstream release) should be deleted together
with its test.
"""
import builtins
import functools
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

import numpy as np
import torch

# the environment check owns the version helpers; it never imports this module (one direction)
from .utils.check_env import at_least, is_installed, print_versions

__all__ = ['apply_all', 'at_least', 'FIXES', 'needed_fixes', 'print_environment']

FIXES = []


def fix(applies_to, needed=lambda: True):
    """Register a fix; ``applies_to`` says for whom (the table of docs/en/advanced_guides/compatibility.md),
    ``needed()`` checks the installed versions."""

    def register(function):
        function.applies_to, function.needed = applies_to, needed
        FIXES.append(function)
        return function

    return register


@fix('mmrazor 1.0.0 with torch >= 2.0, every numpy')
def stub_mmrazor_quantization_backends():
    """mmrazor 1.0.0 builds quantization backend configs at import from torch.ao internals that torch 2.x removed.

    pinas_mm does no quantization, so the package is replaced by an empty stand-in before mmrazor imports it; only
    mmrazor's quantizers (unused here) look anything up in it.
    """
    name = 'mmrazor.structures.quantization.backend_config'
    if name not in sys.modules:
        stub = types.ModuleType(name, 'Stand-in: mmrazor 1.0.0 quantization backends do not build on torch 2.x.')
        stub.BackendConfigs = {}
        stub.__all__ = ['BackendConfigs']
        sys.modules[name] = stub


class _MmclsFromMmpretrain(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """mmrazor 1.0.0 imports ``mmcls``, which mmpretrain replaced: serve ``mmcls.X`` from ``mmpretrain.X``.

    Without it mmrazor's searchable backbones, classifiers and pack transforms are placeholders that raise on use.
    Two classes were renamed by mmpretrain and are mapped by name.
    """
    RENAMED = {'ClsDataSample': 'DataSample', 'PackClsInputs': 'PackInputs'}

    def find_spec(self, fullname, path=None, target=None):
        if fullname == 'mmcls' or fullname.startswith('mmcls.'):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        target = importlib.import_module('mmpretrain' + module.__name__[len('mmcls'):])
        renamed = self.RENAMED

        def __getattr__(name):
            return getattr(target, renamed.get(name, name))

        module.__getattr__ = __getattr__


@fix('mmrazor 1.0.0 where mmcls is not installed', needed=lambda: not is_installed('mmcls'))
def alias_mmcls_to_mmpretrain():
    if not any(isinstance(finder, _MmclsFromMmpretrain) for finder in sys.meta_path):
        sys.meta_path.append(_MmclsFromMmpretrain())


@fix('mmrazor 1.0.0, every numpy')
def plain_str_choices():
    """``OneShotMutableOP.sample_choice`` returns ``numpy.str_``, which leaks into exported subnet YAML files as a
    pickled numpy object (every numpy) and, on numpy 2, whose repr (``np.str_('c1')``) breaks mmrazor's
    ``Candidates`` (``str(dict)`` then ``eval``)."""
    from mmrazor.models.mutables import OneShotMutableOP
    sample_choice = OneShotMutableOP.sample_choice
    if getattr(sample_choice, '__wrapped__', None) is not None:
        return

    @functools.wraps(sample_choice)
    def sample_plain_choice(self):
        return str(sample_choice(self))

    OneShotMutableOP.sample_choice = sample_plain_choice


def mmengine_checkpoint_globals():
    """The non-tensor types an mmengine 0.10.7 checkpoint pickles: the message hub's HistoryBuffer (whose bound
    statistics methods are pickled through ``getattr``) and numpy arrays, dtypes and scalars."""
    from mmengine.logging import HistoryBuffer
    numpy_dtypes = {type(np.dtype(code)) for code in np.typecodes['All']}
    multiarray = (np._core if hasattr(np, '_core') else np.core).multiarray  # numpy 2 renamed numpy.core
    return [HistoryBuffer, np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
            builtins.getattr, *sorted(numpy_dtypes, key=str)]


@fix('torch >= 2.6 (earlier torch loads without the weights-only unpickler)', needed=lambda: at_least('torch', '2.6'))
def load_mmengine_checkpoints_weights_only():
    """torch>=2.6 loads with ``weights_only=True``, which rejects mmengine's own checkpoints (message hub state), so
    resume and ``load_from`` fail. Allow exactly mmengine's types, and only while mmengine loads a checkpoint,
    instead of falling back to unsafe unpickling."""
    from mmengine.runner.checkpoint import CheckpointLoader
    load_checkpoint = CheckpointLoader.load_checkpoint.__func__
    if getattr(load_checkpoint, '__wrapped__', None) is not None:
        return
    allowed = mmengine_checkpoint_globals()

    @functools.wraps(load_checkpoint)
    def load_with_mmengine_globals(cls, filename, map_location=None, logger='current'):
        with torch.serialization.safe_globals(allowed):
            return load_checkpoint(cls, filename, map_location, logger)

    CheckpointLoader.load_checkpoint = classmethod(load_with_mmengine_globals)


@fix('mmengine 0.10.x on machines without GPUs (every torch); a no-op where torch sees a GPU')
def distributed_without_gpus():
    """``torchrun`` on a machine without GPUs (gloo), which mmengine 0.10.7 breaks twice: its ``pytorch`` launcher
    calls ``torch.cuda.set_device`` before creating the process group, and its runner always passes
    ``device_ids=[LOCAL_RANK]`` to DDP, which torch 2.x rejects for a model on the CPU."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model import MMDistributedDataParallel
    init_dist_pytorch = dist_utils._init_dist_pytorch
    if getattr(init_dist_pytorch, '__wrapped__', None) is not None:
        return

    @functools.wraps(init_dist_pytorch)
    def init_dist_pytorch_on_cpu(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return init_dist_pytorch(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(ddp_init)
    def ddp_init_on_cpu(self, module, *args, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
        ddp_init(self, module, *args, **kwargs)

    dist_utils._init_dist_pytorch = init_dist_pytorch_on_cpu
    MMDistributedDataParallel.__init__ = ddp_init_on_cpu


@fix('mmcv 2.1 with numpy >= 2', needed=lambda: at_least('numpy', '2'))
def hue_shifts_wrap_around():
    """numpy 2: mmcv's ``adjust_hue`` turns a negative ``hue_factor * 255`` into ``np.uint8``, which numpy 2 refuses
    (OverflowError), so MoCo-v2's ColorJitter (hue 0.1) crashes. As a numpy float the cast wraps around as numpy 1 did
    (a shift of -0.1 is +231 of 256)."""
    import mmcv
    import mmcv.image
    from mmcv.image import photometric
    adjust_hue = photometric.adjust_hue
    if getattr(adjust_hue, '__wrapped__', None) is not None:
        return

    @functools.wraps(adjust_hue)
    def adjust_hue_numpy2(img, hue_factor, backend=None):
        return adjust_hue(img, np.float64(hue_factor), backend=backend)

    photometric.adjust_hue = mmcv.image.adjust_hue = mmcv.adjust_hue = adjust_hue_numpy2


def needed_fixes():
    """The registered fixes that the installed versions need, in the order they must run."""
    return [function for function in FIXES if function.needed()]


def apply_all():
    """Apply every needed fix (each is idempotent). The mmrazor ones run before anything imports ``mmrazor.models``."""
    for function in needed_fixes():
        function()


def print_environment():
    """What ``make install`` prints at its end: the installed stack, then the fixes applied to it."""
    print_versions()
    print(f'{"compat fixes":15s} {", ".join(fix.__name__ for fix in needed_fixes()) or "none"}')
