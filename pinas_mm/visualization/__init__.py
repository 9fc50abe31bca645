# Copyright (c) pinas_mm contributors. All rights reserved.
from .search_plot import plot_search

__all__ = ['plot_search']
