# Copyright (c) pinas_mm contributors. All rights reserved.
import torch


def setup_launcher(cfg, launcher):
    """Record the job launcher in ``cfg``; without GPUs a distributed run (torchrun, Slurm) uses gloo, since NCCL
    needs GPUs."""
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})
