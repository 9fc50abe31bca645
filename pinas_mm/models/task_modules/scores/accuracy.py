# Copyright (c) pinas_mm contributors. All rights reserved.
from mmpretrain.models import ImageClassifier

from pinas_mm.registry import TASK_UTILS
from .base import BaseSubnetScore, classifier_of, labels_of, views_of


@TASK_UTILS.register_module()
class AccuracyScore(BaseSubnetScore):
    """Top-1 accuracy (%) of a supernet classifier on labelled held-out images.

    The classifier is a supervised supernet's own (SPOS, MixPath: the usual weight-sharing score when the supernet was
    trained with labels), or a linear probe trained on a frozen self-supervised supernet over random paths
    (``configs/pinas/linear_probe.py``): the official Pi-NAS search's score, after BN recalibration."""

    def prepare(self, model, load_batches):
        classifier = classifier_of(model)
        if not isinstance(classifier, ImageClassifier):
            raise TypeError(f'AccuracyScore needs a supernet with a classification head (an mmpretrain '
                            f'ImageClassifier, as in SPOS), got {type(classifier).__name__}; use a label-free score')

    def networks(self, model):
        return [classifier_of(model)]  # tensor mode: backbone, neck and head

    def __call__(self, model, batches):
        classifier = classifier_of(model)
        correct, count = 0, 0
        for batch in batches:
            labels = labels_of(batch)
            logits = classifier(views_of(batch, 1)[0])
            correct += int((logits.argmax(dim=1).cpu() == labels.cpu()).sum())
            count += len(labels)
        return 100. * correct / count
