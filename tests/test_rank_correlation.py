# Copyright (c) pinas_mm contributors. All rights reserved.
"""Ranking figures (pinas_mm.evaluation) against hand-computed values, the files they read, and the CLI."""
import json

import numpy as np
import pytest

from pinas_mm.evaluation import (bootstrap_ci, kendall_tau, load_scores, match_scores, partial_kendall_tau,
                                 rank_correlation, spearman_rho, top_k_overlap)
from conftest import run_tool


def test_tau_rho_and_top_k_match_hand_computed_values():
    predicted, true = [1, 2, 4, 3], [10, 20, 30, 40]  # one discordant pair of 6
    assert kendall_tau(predicted, true) == pytest.approx((5 - 1) / 6)
    assert spearman_rho(predicted, true) == pytest.approx(1 - 6 * 2 / (4 * 15))  # sum d^2 = 2
    assert kendall_tau(true, true) == 1 and kendall_tau(true[::-1], true) == -1
    # tau-b with a tie in predicted: 5 concordant, 0 discordant, 1 tied pair of 6
    assert kendall_tau([1, 2, 3, 3], true) == pytest.approx(5 / (5 * 6) ** .5)
    assert top_k_overlap([0.9, 0.1, 0.8, 0.7], [99, 98, 97, 10], 2) == 0.5  # best two by score: 0, 2; true: 0, 1
    with pytest.raises(ValueError, match=r'k must lie in \[1, 4\]'):
        top_k_overlap(predicted, true, 5)


def test_partial_tau_keeps_what_a_score_ranks_beyond_the_proxy():
    rng = np.random.default_rng(0)
    macs = rng.normal(size=200)
    truth = macs + rng.normal(size=200)
    # a score that only counts MACs agrees with the truth as far as MACs do, and no further
    assert kendall_tau(macs, truth) > 0.3 and np.isnan(partial_kendall_tau(macs, truth, macs))  # nothing beyond
    echo = 2 * macs + 0.01 * rng.normal(size=200)
    assert kendall_tau(echo, truth) > 0.3 and abs(partial_kendall_tau(echo, truth, macs)) < 0.1
    # a score that knows the truth's own part keeps a clear partial tau; one independent of MACs keeps its tau
    assert partial_kendall_tau(truth + 0.1 * rng.normal(size=200), truth, macs) > 0.5
    assert partial_kendall_tau(truth, truth, rng.normal(size=200)) == pytest.approx(1)


def test_bootstrap_interval_is_seeded_and_holds_a_clear_estimate():
    predicted = [x + (x % 3) for x in range(20)]
    true = list(range(20))
    interval = bootstrap_ci(predicted, true, kendall_tau, num_samples=300, seed=1)
    assert interval == bootstrap_ci(predicted, true, kendall_tau, num_samples=300, seed=1)
    assert interval[0] <= kendall_tau(predicted, true) <= interval[1] and interval[0] > 0.5
    assert np.isnan(bootstrap_ci([1.] * 20, true, kendall_tau, num_samples=10)).all()  # all tied: undefined, no crash
    result = rank_correlation(predicted, true, top_k=(5, 50), num_samples=100)
    assert result['num_subnets'] == 20 and list(result['top_k_overlap']) == [5]
    with pytest.raises(ValueError, match='one of each per subnet'):
        rank_correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match='at least 3'):
        rank_correlation([1, 2], [1, 2])


def test_scores_are_read_from_every_format_keeping_leading_zeros(tmp_path):
    (tmp_path / 'map.json').write_text(json.dumps({'01230': 1.5, '33333': 2}))
    (tmp_path / 'generation.json').write_text(json.dumps([
        dict(generation=1, subnet='01230', score=-2.0), dict(generation=2, subnet='01230', score=-1.0),
        dict(generation=2, subnet='33333', score=0.5)]))
    (tmp_path / 'results.json').write_text(json.dumps(dict(settings={}, records=[
        dict(subnet='01230', seed=0, accuracy=97.0), dict(subnet='01230', seed=1, accuracy=98.0)])))
    (tmp_path / 'table.csv').write_text('subnet,accuracy\n01230,96.5\n33333,97\n')
    assert load_scores(str(tmp_path / 'map.json'), 'unused') == {'01230': 1.5, '33333': 2.0}
    assert load_scores(str(tmp_path / 'generation.json'), 'score') == {'01230': -1.5, '33333': 0.5}  # mean
    assert load_scores(str(tmp_path / 'results.json'), 'accuracy') == {'01230': 97.5}
    assert load_scores(str(tmp_path / 'table.csv'), 'accuracy') == {'01230': 96.5, '33333': 97.0}
    with pytest.raises(KeyError, match="no 'accuracy' field; its fields are"):
        load_scores(str(tmp_path / 'generation.json'), 'accuracy')
    with pytest.raises(ValueError, match='2 subnets have both'):
        match_scores({'1': 0, '2': 1, '3': 2}, {'1': 0, '2': 1})


def test_cli_compares_a_search_file_with_stand_alone_results(repo_root, tmp_path):
    subnets = [f'{i:05d}' for i in range(12)]
    (tmp_path / 'scores.json').write_text(json.dumps([dict(subnet=s, score=float(i % 5)) for i, s in
                                                      enumerate(subnets)]))
    (tmp_path / 'truth.csv').write_text('subnet,accuracy\n' + '\n'.join(f'{s},{90 + i}' for i, s in
                                                                         enumerate(subnets + ['99999'])))
    arguments = [str(tmp_path / 'scores.json'), str(tmp_path / 'truth.csv')]
    status, output = run_tool('tools/rank_correlation.py', *arguments, '--plot', str(tmp_path / 'rank.png'), '--out',
                              str(tmp_path / 'rank.json'), '--bootstrap', '100')
    assert status == 0, output[-2000:]
    assert '12 subnets in both files; 0 only in' in output and '1 only in' in output
    figures = json.loads((tmp_path / 'rank.json').read_text())
    assert figures['kendall_tau'] == pytest.approx(kendall_tau([i % 5 for i in range(12)], range(12)))
    assert (tmp_path / 'rank.png').stat().st_size > 5000
    status, output = run_tool('tools/rank_correlation.py', *arguments, '--true-key', 'top1')
    assert status != 0 and "no 'top1' field" in output  # a refusal: an exception would fail here instead
