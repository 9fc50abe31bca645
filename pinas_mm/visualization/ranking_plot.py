# Copyright (c) pinas_mm contributors. All rights reserved.
import matplotlib
import numpy as np

matplotlib.use('Agg')  # files only: works without a display
import matplotlib.pyplot as plt  # noqa: E402

from pinas_mm.evaluation import kendall_tau, spearman_rho  # noqa: E402


def plot_rank_correlation(predicted, true, out_file, predicted_label='supernet score',
                          true_label='stand-alone top-1 (%)', title=None, top_k=None):
    """Scatter of each subnet's supernet score against its stand-alone result, Kendall tau and Spearman rho in the
    title; with ``top_k``, the ``top_k`` best subnets by the stand-alone result are marked."""
    predicted, true = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.scatter(predicted, true, s=18, alpha=.8, label='subnet')
    if top_k:
        best = np.argsort(-true, kind='stable')[:top_k]
        ax.scatter(predicted[best], true[best], s=60, facecolors='none', edgecolors='tab:red',
                   label=f'top-{top_k} stand-alone')
        ax.legend()
    statistics = f'Kendall tau {kendall_tau(predicted, true):.3f}, Spearman rho {spearman_rho(predicted, true):.3f}'
    ax.set(xlabel=predicted_label, ylabel=true_label, title=f'{title}\n{statistics}' if title else statistics)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
