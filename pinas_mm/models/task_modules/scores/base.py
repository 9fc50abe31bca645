# Copyright (c) pinas_mm contributors. All rights reserved.
from abc import ABCMeta, abstractmethod

import torch
import torch.nn.functional as F


def classifier_of(model):
    """The network of an algorithm: an mmrazor algorithm's ``architecture`` (SPOS) or the model itself (PiNAS)."""
    return getattr(model, 'architecture', model)


def pooled_features(backbone, images):
    """L2-normalised, globally average-pooled features of the backbone's last output."""
    return F.normalize(backbone(images)[-1].mean(dim=(2, 3)), dim=1)


def weighted_knn_top1(queries, labels, bank, bank_labels, k=20, temperature=0.07):
    """Top-1 accuracy (%) of a weighted k-nearest-neighbour vote (InstDisc, https://arxiv.org/abs/1805.01978): each
    of the ``k`` most cosine-similar bank features votes for its class with weight ``exp(similarity / T)``.
    Features are L2-normalised rows; labels are class indices."""
    bank_labels = bank_labels.to(queries.device)
    similarity, neighbours = (queries @ bank.T).topk(min(k, len(bank)), dim=1)
    num_classes = int(max(bank_labels.max(), labels.max())) + 1
    votes = F.one_hot(bank_labels[neighbours], num_classes) * (similarity / temperature).exp()[..., None]
    return float((votes.sum(dim=1).argmax(dim=1) == labels.to(queries.device)).float().mean() * 100)


def views_of(batch, num_views):
    """The first ``num_views`` views of a preprocessed batch; a single tensor is one view."""
    inputs = batch['inputs']
    views = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if len(views) < num_views:
        raise ValueError(f'the score needs {num_views} views of every image (MultiView with num_views={num_views} '
                         f'in its pipeline), got {len(views)}')
    return views[:num_views]


def labels_of(batch):
    """Class indices of a preprocessed batch (mmpretrain ``DataSample.gt_label``)."""
    samples = batch['data_samples']
    if not samples or 'gt_label' not in samples[0]:
        raise ValueError('the score needs labelled images: use a dataset with labels (with_label=True)')
    return torch.cat([sample.gt_label for sample in samples])


class BaseSubnetScore(metaclass=ABCMeta):
    """How good the path the supernet currently runs is; higher is better.

    The search loop sets the candidate's path, recalibrates the BN statistics of :meth:`networks` on training
    images, then calls the score on fixed, preprocessed held-out batches (``dict(inputs, data_samples)``), the same
    for every candidate. Scores call the networks directly in tensor mode: mmrazor's validation path calls the model
    in ``predict`` mode, which self-supervised models reject.
    """

    def prepare(self, model, load_batches):
        """Check that the score applies to ``model`` and load any data of its own, at start-up.

        ``load_batches(dataloader_cfg, num_images)`` returns fixed, preprocessed batches.
        """

    def networks(self, model):
        """The modules the score runs, whose BN statistics are recalibrated per candidate."""
        return [classifier_of(model).backbone]

    @abstractmethod
    def __call__(self, model, batches):
        """The score (float) of the current path on ``batches``."""
