# Copyright (c) pinas_mm contributors. All rights reserved.
"""The MixPath option of the Pi-NAS space: several candidates per layer, Shadow BN, sets as subnets."""
import collections

import numpy as np
import pytest
import torch
from mmrazor.models.mutators import NasMutator
from mmrazor.structures import convert_fix_subnet, export_fix_subnet

from pinas_mm.models import MixPathBottlenecks, PiNASResNeSt
from pinas_mm.structures import SubnetError, subnet_state_dict

SMALL = dict(stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16, out_indices=(0, 1, 2, 3))


def mixpath_layers(model):
    return [m for m in model.modules() if isinstance(m, MixPathBottlenecks)]


def test_sampling_draws_the_number_of_paths_uniformly_then_distinct_candidates():
    np.random.seed(0)
    layer = mixpath_layers(PiNASResNeSt(max_paths=3, **SMALL))[0]
    samples = [layer.sample_choice() for _ in range(600)]
    assert all(list(s) == sorted(set(s)) and set(s) <= {'0', '1', '2', '3'} for s in samples)
    counts = collections.Counter(len(s) for s in samples)
    assert set(counts) == {1, 2, 3} and min(counts.values()) > 150  # about 200 each


def test_each_number_of_paths_has_its_own_batch_norm():
    layer = mixpath_layers(PiNASResNeSt(max_paths=2, **SMALL))[1]  # layer2.0, with a shortcut
    assert len(layer.shadow_bns) == 2
    inputs = torch.randn(4, 64, 16, 16)
    layer.train()
    for choice, used in ((('1', ), 0), (('0', '3'), 1)):
        before = [bn.running_mean.clone() for bn in layer.shadow_bns]
        layer.current_choice = choice
        layer(inputs)
        changed = [not torch.equal(b, bn.running_mean) for b, bn in zip(before, layer.shadow_bns)]
        assert changed == [i == used for i in range(2)], choice


def test_fixed_multipath_subnet_gives_the_supernet_outputs_and_exports_sets(tmp_path):
    torch.manual_seed(0)
    np.random.seed(1)
    supernet = PiNASResNeSt(max_paths=2, **SMALL)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    mutator.set_choices(mutator.sample_choices())
    inputs = torch.randn(4, 3, 64, 64)
    supernet.train()
    with torch.no_grad():
        supernet(inputs)
    from mmengine import fileio
    fileio.dump(convert_fix_subnet(export_fix_subnet(supernet)[0]), tmp_path / 'subnet.yaml')
    assert any(isinstance(v['chosen'], list) for v in fileio.load(tmp_path / 'subnet.yaml').values())
    fixed = PiNASResNeSt(arch=str(tmp_path / 'subnet.yaml'), max_paths=2, **SMALL)
    assert fixed.subnet == [layer.current_choice for layer in mixpath_layers(supernet)]
    fixed.load_state_dict(subnet_state_dict(supernet.state_dict(), fixed.layer_names, fixed.subnet), strict=True)
    supernet.eval()
    fixed.eval()
    with torch.no_grad():
        for a, b in zip(supernet(inputs), fixed(inputs)):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize('subnet, message', [
    ([[]] + [['0']] * 4, 'layer1.0: empty set of candidates'),
    ([['0', '1', '2']] + [['0']] * 4, "layer1.0: 3 candidates ['0', '1', '2'] chosen, but max_paths is 2"),
    ([['0']] + [['0', '9']] + [['0']] * 3, "layer2.0: unknown candidate '9'"),
])
def test_bad_multipath_subnets_name_the_layer(subnet, message):
    with pytest.raises(SubnetError, match=message.replace('[', r'\[').replace(']', r'\]')):
        PiNASResNeSt(arch=subnet, max_paths=2, **SMALL)
