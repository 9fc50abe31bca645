# Copyright (c) pinas_mm contributors. All rights reserved.
from .mnist5k import prepare_mnist5k_classification

__all__ = ['prepare_mnist5k_classification']
