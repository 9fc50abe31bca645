# Copyright (c) pinas_mm contributors. All rights reserved.
"""tools/get_flops.py on a tiny mmpretrain classifier whose backbone is the PiNASResNeSt supernet."""
import os.path as osp
import re
import subprocess
import sys

import pytest

from conftest import run_tool

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

PINAS_BACKBONE = ("dict(_scope_='mmrazor', type='mmrazor.PiNASResNeSt', stage_blocks=(1, 1, 1, 1), stem_channels=16, "
                  "base_channels=16, out_indices=(3, ))")
CLASSIFIER = """
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)
default_scope = 'mmrazor'
model = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone={backbone},
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
"""


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('get_flops') / 'tiny_classifier.py'
    path.write_text(CLASSIFIER.format(backbone=PINAS_BACKBONE))
    return str(path)


def get_flops(*args):
    result = subprocess.run([sys.executable, 'tools/get_flops.py', *args], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    return result.returncode, result.stdout + result.stderr


def counts(output):
    """{model name: (params, MACs)} from the exact counts the tool prints in parentheses."""
    blocks = re.findall(r'Model: (.+)\nCounted: .+\nParams: [\d.]+ M \((\d+)\)\nMACs: [\d.]+ G \((\d+)\)', output)
    return {name: (int(params), int(macs)) for name, params, macs in blocks}


@pytest.fixture(scope='module')
def subnet_counts(tiny_config):
    """Counts per subnet, each tool run once for the module (in this process)."""
    cache = {}

    def get(subnet):
        if subnet not in cache:
            rc, output = run_tool('tools/get_flops.py', tiny_config, '--subnet', subnet, '--shape', '32')
            assert rc == 0, output[-3000:]
            assert 'Input shape: (3, 32, 32)' in output
            cache[subnet] = counts(output)
        return cache[subnet]

    return get


def test_supernet_config_reports_supernet_and_subnet(subnet_counts):
    found = subnet_counts('0000')
    assert len(found) == 2, found
    (supernet_name, supernet), (subnet_name, subnet) = found.items()
    assert supernet_name.startswith('supernet') and subnet_name == 'subnet 0000'
    assert all(n > 0 for n in supernet + subnet)
    assert supernet[0] > subnet[0] and supernet[1] > subnet[1]  # every candidate vs one per layer


def test_different_subnets_give_different_counts(subnet_counts):
    small, large = subnet_counts('0000'), subnet_counts('3333')
    assert small['subnet 0000'][0] != large['subnet 3333'][0]
    assert small['subnet 0000'][1] != large['subnet 3333'][1]
    assert list(small.values())[0] == list(large.values())[0]  # the supernet's counts do not depend on --subnet


def test_subnet_needs_a_pinas_backbone(tmp_path):
    config = tmp_path / 'resnet_classifier.py'
    config.write_text(CLASSIFIER.format(backbone="dict(type='ResNet', depth=18)"))
    rc, output = get_flops(str(config), '--subnet', '0000')
    assert rc != 0 and "--subnet needs a PiNASResNeSt backbone, but the config's backbone is ResNet" in output
