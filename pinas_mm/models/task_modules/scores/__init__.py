# Copyright (c) pinas_mm contributors. All rights reserved.
from .accuracy import AccuracyScore
from .alignment_uniformity import AlignmentUniformityScore
from .base import BaseSubnetScore
from .contrastive import ContrastiveScore
from .knn import KNNScore

__all__ = ['AccuracyScore', 'AlignmentUniformityScore', 'BaseSubnetScore', 'ContrastiveScore', 'KNNScore']
