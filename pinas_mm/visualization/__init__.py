# Copyright (c) pinas_mm contributors. All rights reserved.
from .ranking_plot import plot_rank_correlation
from .search_plot import plot_search

__all__ = ['plot_rank_correlation', 'plot_search']
