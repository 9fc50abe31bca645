# Copyright (c) pinas_mm contributors. All rights reserved.
import matplotlib

matplotlib.use('Agg')  # files only: works without a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def plot_search(records, front, out_file, score_name='score'):
    """Score against MACs of every scored candidate, coloured by generation, with the Pareto front highlighted;
    next to it the best score per generation. ``records``/``front``: dicts with generation, score, flops."""
    fig, (ax_front, ax_progress) = plt.subplots(1, 2, figsize=(12, 4.5))
    points = ax_front.scatter([r['flops'] for r in records], [r['score'] for r in records], s=14,
                              c=[r['generation'] for r in records], cmap='viridis', alpha=.7)
    fig.colorbar(points, ax=ax_front, label='generation').locator = MaxNLocator(integer=True)
    front = sorted(front, key=lambda r: r['flops'])
    ax_front.plot([r['flops'] for r in front], [r['score'] for r in front], 'o-', color='tab:red', mfc='none',
                  label='Pareto front')
    ax_front.set(xlabel='MACs (M)', ylabel=score_name, title='Candidates')
    ax_front.legend()
    generations = sorted({r['generation'] for r in records})
    best, so_far = [], float('-inf')
    for generation in generations:
        so_far = max([so_far] + [r['score'] for r in records if r['generation'] == generation])
        best.append(so_far)
    ax_progress.plot(generations, best, 'o-')
    ax_progress.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_progress.set(xlabel='generation', ylabel=f'best {score_name} so far', title='Search progress')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
