# Copyright (c) pinas_mm contributors. All rights reserved.
"""Every fix the OpenMMLab stack needs to run on torch 2.13, numpy 2 and Python 3.11, in one place.

``pinas_mm/__init__.py`` imports this module first; :func:`apply_all` runs each fix once, without touching files in
site-packages. Each fix says why it exists and has a test in ``tests/test_compat.py``. A fix that is no longer needed
(a newer upstream release) should be deleted together with its test.
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

__all__ = ['apply_all']


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


def alias_mmcls_to_mmpretrain():
    if not any(isinstance(finder, _MmclsFromMmpretrain) for finder in sys.meta_path):
        sys.meta_path.append(_MmclsFromMmpretrain())


def plain_str_choices():
    """numpy 2: ``OneShotMutableOP.sample_choice`` returns ``numpy.str_``, whose repr (``np.str_('c1')``) breaks
    mmrazor's ``Candidates`` (``str(dict)`` then ``eval``) and leaks into exported subnet YAML files."""
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
    return [HistoryBuffer, np.ndarray, np.dtype, np._core.multiarray._reconstruct, np._core.multiarray.scalar,
            builtins.getattr, *sorted(numpy_dtypes, key=str)]


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


def apply_all():
    """Apply every fix (each is idempotent). The first two must run before anything imports ``mmrazor.models``."""
    stub_mmrazor_quantization_backends()
    alias_mmcls_to_mmpretrain()
    plain_str_choices()
    load_mmengine_checkpoints_weights_only()
    distributed_without_gpus()
    hue_shifts_wrap_around()
