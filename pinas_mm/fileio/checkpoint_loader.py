# Copyright (c) pinas_mm contributors. All rights reserved.
"""A file that is not a checkpoint is named as such, wherever mmengine loads a local one (resume, ``load_from``,
``Pretrained`` init, export): torch's own error for a damaged file does not name it and, from torch 2.6, invites
users to turn the safe loader off ("Re-running `torch.load` with `weights_only` set to `False`...")."""
import pickle
import re
import zipfile

from mmengine.runner import checkpoint as mmengine_checkpoint

from .file_pair import recover_pair


class CheckpointError(OSError):
    """A file given as a checkpoint cannot be one; the message names it and says why, in torch's words."""


def _explain(filename, error):
    """What torch found, in its words, without its advice on ``weights_only``."""
    text = str(error)
    refused_global = re.search(r'Unsupported global: GLOBAL (\S+)', text)
    if refused_global:
        return (f'{filename} is not a checkpoint that pinas_mm loads: it holds a Python object that is not tensors '
                f'or plain data ({refused_global.group(1)}), which mmengine, mmrazor and pinas_mm checkpoints never '
                'hold, and only the safe (weights-only) loader is used.')
    unpickler_error = re.search(r'WeightsUnpickler error: (.+?)(\n\n|$)', text, flags=re.S)
    if unpickler_error:
        text = unpickler_error.group(1)
    if isinstance(error, EOFError):  # torch < 2.6 says "Ran out of input", later ones nothing
        reason = 'EOFError, the file ends before its contents do'
    else:
        reason = text.strip().split('\n')[0].split('. ')[0].strip().rstrip('.')
    return f'{filename} is not a checkpoint, or no longer one (damaged or cut short); torch.load stopped at: {reason}.'


def _is_damaged_file(error):
    """Errors that mean the bytes are not a checkpoint, as opposed to e.g. a CUDA map_location on a CPU machine."""
    if isinstance(error, (pickle.UnpicklingError, EOFError, zipfile.BadZipFile)):
        return True
    return isinstance(error, RuntimeError) and 'PytorchStreamReader' in str(error)


@mmengine_checkpoint.CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename, map_location):
    """mmengine's loader of local paths (same name, so its log still says "local backend"), with
    :class:`CheckpointError` for a damaged file; an export that a crash interrupted after its commit is finished
    first, so the checkpoint matches the subnet YAML beside it."""
    recover_pair(filename)
    try:
        return mmengine_checkpoint.load_from_local(filename, map_location)
    except Exception as error:
        if not _is_damaged_file(error):
            raise
        raise CheckpointError(_explain(filename, error)) from None
