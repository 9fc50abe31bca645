# Copyright (c) pinas_mm contributors. All rights reserved.
import torch.nn as nn
import torch.nn.functional as F

from pinas_mm.registry import TASK_UTILS
from ...algorithms import PiNAS
from .base import BaseSubnetScore, views_of


@TASK_UTILS.register_module()
class ContrastiveScore(BaseSubnetScore):
    """Pi-NAS's label-free score: minus the training loss of the candidate on held-out images.

    The student runs the candidate path on the first view, the EMA teacher (set to the same path by the search)
    on the second; the loss is the supernet's own InfoNCE against its queue of negatives at its temperature (or its
    negative-free loss when it was trained without negatives). It measures how well the path solves the task the
    supernet was trained on, without labels. Needs a :class:`PiNAS` model and two views per image.
    """

    def prepare(self, model, load_batches):
        if not isinstance(model, PiNAS):
            raise TypeError(f'ContrastiveScore needs a PiNAS supernet (student, teacher and queue), got '
                            f'{type(model).__name__}; use a score such as AlignmentUniformityScore or KNNScore')

    def networks(self, model):
        return [nn.Sequential(model.backbone, model.neck), model.encoder_k.module]

    def __call__(self, model, batches):
        total, count = 0., 0
        for batch in batches:
            student_view, teacher_view = views_of(batch, 2)
            query = F.normalize(model.neck(model.backbone(student_view))[0], dim=1)
            key = F.normalize(model.encoder_k.module(teacher_view)[0], dim=1)
            total += float(model.contrastive_loss(query, key)) * len(query)
            count += len(query)
        return -total / count
