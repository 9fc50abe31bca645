# Copyright (c) pinas_mm contributors. All rights reserved.
from .digit_canvases import prepare_digit_canvases
from .mnist5k import prepare_cluttered_mnist5k, prepare_mnist5k_classification
from .utils import DatasetError

__all__ = ['DatasetError', 'prepare_cluttered_mnist5k', 'prepare_digit_canvases', 'prepare_mnist5k_classification']
