# Copyright (c) pinas_mm contributors. All rights reserved.
"""Shared by the ranking benchmark's scripts: its subnets, and its versioned results files."""
import datetime
import itertools
import json
import os
import os.path as osp
import random
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
RESULTS = osp.join(HERE, 'results')
SPACE_LAYERS, CANDIDATES = 5, '0123'  # the scaled-down space of configs/pinas/*_mnist5k.py: stage_blocks (1, 1, 2, 1)

sys.path.insert(0, osp.dirname(HERE))  # benchmarks/, for the machine description all results files share
from supernet_overhead import machine_info  # noqa: E402


def sample_subnets(num_subnets, seed):
    """``num_subnets`` distinct single-path subnets of the scaled-down space, drawn uniformly with ``seed``."""
    space = [''.join(path) for path in itertools.product(CANDIDATES, repeat=SPACE_LAYERS)]
    return random.Random(seed).sample(space, num_subnets)


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
        command = ' '.join([osp.relpath(sys.argv[0], REPO), *sys.argv[1:]])
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
