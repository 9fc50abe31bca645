# Copyright (c) pinas_mm contributors. All rights reserved.
import torch

from pinas_mm.registry import TASK_UTILS
from .base import BaseSubnetScore, classifier_of, labels_of, pooled_features, views_of, weighted_knn_top1


@TASK_UTILS.register_module()
class KNNScore(BaseSubnetScore):
    """Top-1 accuracy (%) of a weighted k-nearest-neighbour classifier on the candidate's backbone features.

    Labelled held-out images are classified against a bank of labelled training images encoded by the same
    candidate: each of the ``k`` most cosine-similar bank images votes for its class with weight
    ``exp(similarity / temperature)`` (`InstDisc <https://arxiv.org/abs/1805.01978>`_, k=200, T=0.07, a standard
    self-supervised evaluation). The features are learnt without labels; labels only measure them.

    Args:
        bank_dataloader (dict): Dataloader config of the labelled bank images (training split, test pipeline).
        num_bank_images (int): Bank images, a fixed seeded subset. Default: 1000.
        k (int): Neighbours that vote. Default: 20.
        temperature (float): Temperature of the vote weights. Default: 0.07.
    """

    def __init__(self, bank_dataloader, num_bank_images=1000, k=20, temperature=0.07):
        self.bank_dataloader = bank_dataloader
        self.num_bank_images = num_bank_images
        self.k = k
        self.temperature = temperature

    def prepare(self, model, load_batches):
        self.bank = load_batches(self.bank_dataloader, self.num_bank_images)
        self.bank_labels = torch.cat([labels_of(batch) for batch in self.bank])

    def _features(self, backbone, batches):
        return torch.cat([pooled_features(backbone, views_of(batch, 1)[0]) for batch in batches])

    def __call__(self, model, batches):
        backbone = classifier_of(model).backbone
        bank, queries = self._features(backbone, self.bank), self._features(backbone, batches)
        labels = torch.cat([labels_of(batch) for batch in batches])
        return weighted_knn_top1(queries, labels, bank, self.bank_labels, self.k, self.temperature)
