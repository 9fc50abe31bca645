# Copyright (c) pinas_mm contributors. All rights reserved.
from .ranking import (bootstrap_ci, kendall_tau, load_scores, match_scores, partial_kendall_tau, rank_correlation,
                      spearman_rho, top_k_overlap)

__all__ = ['bootstrap_ci', 'kendall_tau', 'load_scores', 'match_scores', 'partial_kendall_tau', 'rank_correlation',
           'spearman_rho', 'top_k_overlap']
