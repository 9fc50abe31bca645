# Copyright (c) pinas_mm contributors. All rights reserved.
import torch

from pinas_mm.registry import TASK_UTILS
from .base import BaseSubnetScore, classifier_of, pooled_features, views_of


@TASK_UTILS.register_module()
class AlignmentUniformityScore(BaseSubnetScore):
    """A label-free, teacher-free score: minus alignment plus uniformity of the candidate's backbone features.

    `Understanding Contrastive Representation Learning through Alignment and Uniformity on the Hypersphere
    <https://arxiv.org/abs/2005.10242>`_ (Wang & Isola, ICML 2020): contrastive losses optimise exactly these two
    properties, and both predict linear-probe accuracy. Alignment is the mean squared distance between the
    normalised pooled features of two views of an image; uniformity is
    ``log mean exp(-t * squared distance)`` over pairs of different images. Because it needs neither the teacher nor
    labels, it scores any supernet (PiNAS, SPOS, MixPath) and checks ContrastiveScore against a second view.

    Args:
        uniformity_weight (float): Weight of uniformity against alignment. Default: 1.
        t (float): Temperature of the Gaussian potential. Default: 2, as in the paper.
    """

    def __init__(self, uniformity_weight=1., t=2.):
        self.uniformity_weight = uniformity_weight
        self.t = t

    def _uniformity(self, features):
        return torch.pdist(features).pow(2).mul(-self.t).exp().mean().log()

    def __call__(self, model, batches):
        backbone = classifier_of(model).backbone
        pairs = [[pooled_features(backbone, view) for view in views_of(batch, 2)] for batch in batches]
        first = torch.cat([a for a, _ in pairs])
        second = torch.cat([b for _, b in pairs])
        alignment = (first - second).pow(2).sum(dim=1).mean()
        uniformity = (self._uniformity(first) + self._uniformity(second)) / 2
        return -float(alignment + self.uniformity_weight * uniformity)
