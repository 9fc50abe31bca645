# Copyright (c) pinas_mm contributors. All rights reserved.
"""Shared by the ranking benchmark's scripts: its subnets, and its versioned results files."""
import datetime
import itertools
import json
import os
import os.path as osp
import random
import shlex
import subprocess
import sys

from pinas_mm.datasets.utils import COMPLETE_MARKER

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
RESULTS = osp.join(HERE, 'results')
SPACE_LAYERS, CANDIDATES = 5, '0123'  # the scaled-down space of configs/pinas/*_mnist5k.py: stage_blocks (1, 1, 2, 1)
# (radix, cardinality, bottleneck_width) of candidates 0-3, by --space. 'paper': the configs' own, the paper's four
# cost-matched blocks, which at this scale train to the same accuracy within seed noise (results/standalone_v2.json).
# 'widths': the same four kinds with the paper's widths times 1/4, 1/2, 1, 2, so that candidates differ in cost as
# DESIGN §5 suggests (subnets of 1.3-9.7 M MACs instead of 3.75-3.94 M). 'wide3': what 'widths' built until the
# backbone applied a width at cardinality 1 (mmpretrain's block ignores it there), i.e. the paper's candidates with
# candidate 3 twice as wide (3.9-9.7 M MACs); results/pilot_*.json and standalone_v3.json were made with it.
SPACES = {'paper': None, 'widths': ((1, 1, 16), (2, 1, 32), (1, 2, 42), (2, 2, 80)),
          'wide3': ((1, 1, 64), (2, 1, 64), (1, 2, 42), (2, 2, 80))}
# the data, by --task: the 32x32 digits (98 % for any subnet), or cluttered ones (prepare_mnist5k.py --cluttered)
TASKS = {'digits': 'data/mnist5k', 'cluttered': 'data/mnist5k_cluttered'}
NUM_CLASSES = 10  # the digits 0-9, in either task
# the learning monitor's figures (pinas_mm.evaluation.learning.learning_figures) as the tables show them:
# key, column title, format
LEARNING_FIGURES = (('cross_view_retrieval_top1', 'cross-path retrieval, augmented views', '.3f'),
                    ('cos_positive_pair', 'cos, positive pairs', '.3f'),
                    ('cross_path_retrieval_top1', 'cross-path retrieval, plain images', '.3f'),
                    ('cos_between_images', 'cos, two images', '.3f'),
                    ('cos_between_paths', 'cos, two paths', '.3f'),
                    ('backbone_cos_between_paths', 'cos, two paths (backbone features)', '.3f'),
                    ('residual_bn_scale', 'residual BN scale', '.3f'),
                    ('knn_top1', 'kNN top-1 %', '.1f'))

sys.path.insert(0, osp.dirname(HERE))  # benchmarks/, for the machine description all results files share
from supernet_overhead import machine_info  # noqa: E402


def sample_subnets(num_subnets, seed):
    """``num_subnets`` distinct single-path subnets of the scaled-down space, drawn uniformly with ``seed``."""
    space = [''.join(path) for path in itertools.product(CANDIDATES, repeat=SPACE_LAYERS)]
    return random.Random(seed).sample(space, num_subnets)


def accuracies_by_subnet(records):
    """{subnet: {seed: top-1}} of a ground truth's records: how every reader of a standalone.py file groups its runs."""
    by_subnet = {}
    for record in records:
        by_subnet.setdefault(record['subnet'], {})[record['seed']] = record['accuracy']
    return by_subnet


def space_settings(args):
    """What a results file records of ``--space`` and ``--task``: nothing for the configs' own candidates and the plain
    digits (the files made before there was a choice), else their names, the candidates and how the data was made."""
    settings = dict(space=args.space, candidates=[list(c) for c in SPACES[args.space]]) if SPACES[args.space] else {}
    if args.task != 'digits':
        settings.update(task=args.task, data=args.dataset['settings'])
    return settings


def add_space_arguments(parser):
    """--space, --task and --data-root, the same in every script of the benchmark."""
    parser.add_argument('--space', choices=list(SPACES), default='paper',
                        help="the candidates (common.SPACES): the configs' own, or 'widths', candidates of four costs")
    parser.add_argument('--task', choices=list(TASKS), default='digits',
                        help='the data (common.TASKS): the plain digits, or cluttered ones (a harder task)')
    parser.add_argument('--data-root', help='default: data/mnist5k or data/mnist5k_cluttered, as written by '
                        'tools/dataset_converters/prepare_mnist5k.py [--cluttered]')


def read_data_root(args, parser):
    """Set ``args.data_root`` (--data-root, or the task's folder) and ``args.dataset``, the summary its converter
    recorded (settings, image counts); a parser error with the command that writes the folder when it is not written."""
    args.data_root = args.data_root or osp.join(REPO, TASKS[args.task])
    marker = osp.join(args.data_root, COMPLETE_MARKER)
    if not osp.exists(marker):
        flag = ' --cluttered' if args.task == 'cluttered' else ''
        parser.error(f'{args.data_root} holds no prepared data; write it with: python tools/dataset_converters/'
                     f'prepare_mnist5k.py{flag} {args.data_root}')
    with open(marker) as f:
        args.dataset = json.load(f)


def command_line():
    """This script's command line, relative to the repository and quoted as a shell would re-run it."""
    return shlex.join([osp.relpath(sys.argv[0], REPO), *sys.argv[1:]])


def git_commit():
    result = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip() or 'unknown'


class ResultsFile:
    """A versioned JSON file of records with the settings and commands that made them.

    Saved (atomically) after every record, so an interrupted run loses nothing and continues where it stopped; an
    existing file made with other settings is refused, so its figures are never mixed with others. A file once
    complete is the benchmark's stored result: re-running reads it instead of recomputing.
    """

    def __init__(self, path, settings, threads=None):
        self.path = path
        command = command_line()
        if osp.exists(path):
            with open(path) as f:
                self.content = json.load(f)
            if self.content['settings'] != settings:
                raise SystemExit(f'{path} holds results made with {self.content["settings"]}, not {settings}: '
                                 'choose another results file (a new version) for other settings')
            if command not in self.content['commands']:
                self.content['commands'].append(command)  # e.g. more seeds added later
        else:
            self.content = dict(version=1, settings=settings, commands=[command], commit=git_commit(),
                                started=now(), machine=machine_info(threads), records=[])

    @property
    def records(self):
        return self.content['records']

    def find(self, **fields):
        return next((r for r in self.records if all(r.get(k) == v for k, v in fields.items())), None)

    def add(self, record):
        self.records.append(record)
        self.content['updated'] = now()
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        with open(self.path + '.tmp', 'w') as f:
            json.dump(self.content, f, indent=1)
        os.replace(self.path + '.tmp', self.path)


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
