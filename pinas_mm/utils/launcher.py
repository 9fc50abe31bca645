# Copyright (c) pinas_mm contributors. All rights reserved.
import gc
import warnings

import torch


def _sync_bn_to_bn(node):
    """Replace every ``norm_cfg`` of type SyncBN in a config tree by BN; returns how many."""
    count = 0
    if isinstance(node, dict):
        norm = node.get('norm_cfg')
        if isinstance(norm, dict) and norm.get('type') == 'SyncBN':
            norm['type'] = 'BN'
            count += 1
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return 0
    return count + sum(_sync_bn_to_bn(child) for child in children)


def setup_launcher(cfg, launcher):
    """Record the job launcher in ``cfg``. Without GPUs a distributed run (torchrun, Slurm) uses gloo, since NCCL
    needs GPUs, and BN instead of SyncBN, which DDP accepts only on GPUs (statistics are then per rank)."""
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})
        if _sync_bn_to_bn(cfg.get('model')):
            warnings.warn('no GPU: SyncBN layers are built as BN (per-rank statistics) for this distributed run')


def close_process_group():
    """Destroy the default process group, if any, once every rank is done, before the interpreter exits: a gloo
    group torn down (by this call or by the exit's destructors) while another rank still works on, e.g. rank 0
    writing the search's plots, aborts the finished rank (``terminate called without an active exception``). The
    finished runner's DDP model still holds the group in reference cycles: collected first, so that the group is
    freed here and not by the interpreter's teardown, where a gloo group's destructor can abort the process too."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        gc.collect()
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
