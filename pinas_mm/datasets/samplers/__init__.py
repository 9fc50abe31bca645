# Copyright (c) pinas_mm contributors. All rights reserved.
from .seeded_augment_sampler import SeededAugmentSampler, augmentation_seed

__all__ = ['SeededAugmentSampler', 'augmentation_seed']
