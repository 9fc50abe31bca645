# Copyright (c) pinas_mm contributors. All rights reserved.
from contextlib import contextmanager

import torch
from torch.nn.modules.batchnorm import _BatchNorm


def tracked_bns(networks):
    """The BN layers of ``networks`` that keep running statistics, each once."""
    return list({id(m): m for net in networks for m in net.modules()
                 if isinstance(m, _BatchNorm) and m.track_running_stats}.values())


@contextmanager
def kept_bn_statistics(bns):
    """Within the block, the BN layers ``bns`` may change their running statistics; on exit they are as they were."""
    saved = [(bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone()) for bn in bns]
    try:
        yield
    finally:
        for bn, (mean, var, count) in zip(bns, saved):
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.num_batches_tracked.copy_(count)


@contextmanager
def recalibrated_bn(networks, images):
    """Within the block, ``networks`` are in eval mode and their BN layers hold statistics measured on ``images``.

    Weight-sharing supernets keep one set of BN statistics for all paths, which fits none of them; without
    recalibration, weight-sharing scores are mostly noise (SPOS, MixPath). Each BN layer averages the batch means and
    unbiased variances of ``images`` equally (torch's cumulative average, ``momentum=None``) in train mode, while
    every other module stays in eval mode (no dropout or drop-path). On exit the supernet's own statistics, momenta
    and modes come back, so scoring leaves the model as it found it. With no ``images`` the statistics are kept.

    Args:
        networks (list[nn.Module]): Modules that map a batch of images to outputs, e.g. a backbone; BN layers
            shared between them are recalibrated on every network's forward.
        images (list[Tensor]): Preprocessed image batches.
    """
    bns = tracked_bns(networks)
    momenta = [bn.momentum for bn in bns]
    modes = [net.training for net in networks]
    try:
        with kept_bn_statistics(bns):
            for net in networks:
                net.eval()
            if images:
                for bn in bns:
                    bn.reset_running_stats()
                    bn.momentum = None
                    bn.train()
                with torch.no_grad():
                    for batch in images:
                        for net in networks:
                            net(batch)
                for bn in bns:
                    bn.eval()
            yield
    finally:
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
        for net, mode in zip(networks, modes):
            net.train(mode)
