# Copyright (c) pinas_mm contributors. All rights reserved.
"""How well a supernet ranks subnets: its scores against the subnets' stand-alone results (e.g. top-1), by rank.

The one-shot premise is that the supernet orders architectures as training each one alone would; Kendall tau (pairs
ordered alike), Spearman rho (rank correlation) and top-k overlap (does it find the best ones) measure that.
"""
import csv
import json
import os.path as osp

import numpy as np
from scipy import stats


def kendall_tau(predicted, true):
    """Kendall tau-b: ties (equal scores) count as neither concordant nor discordant."""
    return float(stats.kendalltau(predicted, true).statistic)


def spearman_rho(predicted, true):
    return float(stats.spearmanr(predicted, true).statistic)


def partial_kendall_tau(predicted, true, control):
    """Kendall's partial tau of ``predicted`` and ``true`` with ``control`` held fixed: what a score ranks beyond what
    a cheap proxy (e.g. MACs) already does. 0 where the score agrees with the truth only as far as both agree with the
    proxy; nan where the proxy orders either of them completely."""
    xy, xz, yz = kendall_tau(predicted, true), kendall_tau(predicted, control), kendall_tau(true, control)
    denominator = np.sqrt((1 - xz**2) * (1 - yz**2))
    return float((xy - xz * yz) / denominator) if denominator > 0 else float('nan')


def top_k_overlap(predicted, true, k):
    """Share of the ``k`` best subnets by ``true`` that are among the ``k`` best by ``predicted`` (higher is better
    for both)."""
    if not 1 <= k <= len(true):
        raise ValueError(f'k must lie in [1, {len(true)}] (the number of subnets), got {k}')
    best = (set(np.argsort(-np.asarray(values, dtype=float), kind='stable')[:k]) for values in (predicted, true))
    return len(next(best) & next(best)) / k


def bootstrap_ci(predicted, true, statistic, num_samples=1000, confidence=0.95, seed=0):
    """Percentile interval of ``statistic(predicted, true)`` over resamples of the (predicted, true) pairs with
    replacement; ``predicted`` may hold several columns (e.g. one per supernet seed) per subnet. Resamples where the
    statistic is undefined (nan, e.g. all tied) are left out; where it is undefined in all, so is the interval."""
    predicted, true = np.asarray(predicted, dtype=float), np.asarray(true, dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_samples):
        indices = rng.integers(len(true), size=len(true))
        values.append(statistic(predicted[indices], true[indices]))
    values = np.asarray(values)[~np.isnan(values)]
    if not len(values):  # e.g. a supernet that scores every subnet alike
        return [float('nan'), float('nan')]
    tail = (1 - confidence) / 2 * 100
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


def _check_pairs(predicted, true):
    if len(predicted) != len(true):
        raise ValueError(f'{len(predicted)} predicted scores but {len(true)} true results: one of each per subnet')
    if len(true) < 3:
        raise ValueError(f'a ranking needs at least 3 subnets, got {len(true)}')


def rank_correlation(predicted, true, top_k=(5, 10), num_samples=1000, confidence=0.95, seed=0):
    """Kendall tau, Spearman rho (each with a bootstrap interval) and top-k overlaps of ``predicted`` vs ``true``."""
    _check_pairs(predicted, true)
    result = dict(num_subnets=len(true))
    for name, measure in (('kendall_tau', kendall_tau), ('spearman_rho', spearman_rho)):
        result[name] = measure(predicted, true)
        result[f'{name}_ci'] = bootstrap_ci(predicted, true, measure, num_samples, confidence, seed)
    result['top_k_overlap'] = {k: top_k_overlap(predicted, true, k) for k in top_k if k <= len(true)}
    return result


def _read(path):
    """A scores file's content: CSV rows as dicts of strings (subnets keep their leading zeros), or the JSON."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such file')
    with open(path, newline='') as f:
        return list(csv.DictReader(f)) if path.endswith('.csv') else json.load(f)


def load_scores(path, key):
    """``{subnet: value}`` from a file of scores or results: a JSON ``{subnet: value}`` object (``key`` unused), a
    JSON list of records with ``subnet`` and ``key`` (a search's ``search_generation_k.json``,
    ``subnet_scores.json``), a JSON object whose ``records`` are such (a benchmark results file), or a CSV with
    ``subnet`` and ``key`` columns. A subnet recorded several times (seeds, generations) gets the mean."""
    content = _read(path)
    if isinstance(content, dict) and 'records' not in content:
        return {str(subnet): float(value) for subnet, value in content.items()}
    values = {}
    for row in content['records'] if isinstance(content, dict) else content:
        if 'subnet' not in row or key not in row:
            raise KeyError(f'{path}: a record has no {"subnet" if "subnet" not in row else repr(key)} field; its '
                           f'fields are {sorted(row)}')
        values.setdefault(str(row['subnet']), []).append(float(row[key]))
    return {subnet: float(np.mean(v)) for subnet, v in values.items()}


def match_scores(predicted, true):
    """The subnets in both ``{subnet: value}`` dicts (sorted) and their predicted and true values."""
    subnets = sorted(set(predicted) & set(true))
    if len(subnets) < 3:
        raise ValueError(f'{len(subnets)} subnets have both a predicted score and a true result; a ranking needs 3')
    return subnets, [predicted[s] for s in subnets], [true[s] for s in subnets]
