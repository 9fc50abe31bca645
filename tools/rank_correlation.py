# Copyright (c) pinas_mm contributors. All rights reserved.
"""How well a supernet ranks subnets: its scores against their stand-alone results (Kendall tau, Spearman rho, top-k).

PREDICTED and TRUE are JSON or CSV files keyed by subnet (see ``pinas_mm.evaluation.load_scores``): e.g. a search's
``search_generation_k.json`` or a ``SubnetScoreLoop``'s ``subnet_scores.json`` (key ``score``) against a results file
of subnets trained stand-alone (key ``accuracy``, as ``benchmarks/ranking/results/standalone_v1.json``).
"""
import argparse
import json
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    from pinas_mm.evaluation import load_scores, match_scores, rank_correlation
    from pinas_mm.visualization import plot_rank_correlation
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('predicted', help='the supernet scores (JSON or CSV)')
    parser.add_argument('true', help='the stand-alone results of the same subnets (JSON or CSV)')
    parser.add_argument('--predicted-key', default='score', help='field of the scores (default: score)')
    parser.add_argument('--true-key', default='accuracy', help='field of the stand-alone results (default: accuracy)')
    parser.add_argument('--top-k', type=int, nargs='+', default=[5, 10], help='top-k overlaps (default: 5 10)')
    parser.add_argument('--bootstrap', type=int, default=1000, help='bootstrap resamples for the 95 %% intervals')
    parser.add_argument('--seed', type=int, default=0, help='seed of the bootstrap')
    parser.add_argument('--plot', help='write a scatter plot (PNG) here')
    parser.add_argument('--out', help='write the figures (JSON) here')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        predicted = load_scores(args.predicted, args.predicted_key)
        true = load_scores(args.true, args.true_key)
        subnets, predicted_values, true_values = match_scores(predicted, true)
    except (OSError, KeyError, ValueError) as error:  # unreadable file, missing field, too few common subnets
        sys.exit(f'error: {error}')
    print(f'{len(subnets)} subnets in both files; {len(predicted) - len(subnets)} only in {args.predicted}, '
          f'{len(true) - len(subnets)} only in {args.true}')
    result = rank_correlation(predicted_values, true_values, args.top_k, args.bootstrap, seed=args.seed)
    rows = [('Kendall tau', result['kendall_tau'], result['kendall_tau_ci']),
            ('Spearman rho', result['spearman_rho'], result['spearman_rho_ci'])]
    print('\n| measure | value | 95 % interval |\n|---|---|---|')
    for name, value, (low, high) in rows:
        print(f'| {name} | {value:.3f} | [{low:.3f}, {high:.3f}] |')
    for k, overlap in result['top_k_overlap'].items():
        print(f'| top-{k} overlap | {overlap:.2f} | |')
    if args.plot:
        plot_rank_correlation(predicted_values, true_values, args.plot, predicted_label=args.predicted_key,
                              true_label=args.true_key, top_k=min(args.top_k))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(result, subnets=subnets, predicted=predicted_values, true=true_values), f, indent=1)


if __name__ == '__main__':
    main()
