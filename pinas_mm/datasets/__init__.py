# Copyright (c) pinas_mm contributors. All rights reserved.
from .digit_canvases import prepare_digit_canvases
from .mnist5k import prepare_cluttered_mnist5k, prepare_mnist5k_classification
from .samplers import SeededAugmentSampler, augmentation_seed
from .seeded_augment_dataset import SeededAugmentDataset
from .utils import DatasetError

__all__ = [
    'DatasetError', 'SeededAugmentDataset', 'SeededAugmentSampler', 'augmentation_seed', 'prepare_cluttered_mnist5k',
    'prepare_digit_canvases', 'prepare_mnist5k_classification'
]
