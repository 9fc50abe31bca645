# Copyright (c) pinas_mm contributors. All rights reserved.
"""The Pi-NAS search space: its shape, ResNeSt-50 as a subnet, fixed subnets equal to the supernet path, subnet
forms and their errors."""
import argparse

import pytest
import torch
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.structures import convert_fix_subnet, export_fix_subnet

from pinas_mm.models import PiNASResNeSt
from pinas_mm.structures import SubnetError, parse_subnet, subnet_state_dict
from pinas_mm.utils.dict_action import DictAction

# A scaled-down space of the same family: 5 layers, widths / 4, every shape change of the full space kept.
SMALL = dict(stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16, out_indices=(0, 1, 2, 3))
PINAS_TRANS = '3333113330011021'


def settle_batch_norm_statistics(model, inputs, steps=3):
    """Give every BN non-trivial running statistics, so that eval-mode comparisons mean something."""
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(inputs)
    model.eval()


def test_paper_space_has_16_layers_of_4_candidates_sharing_shortcuts():
    supernet = PiNASResNeSt()
    layers = [m for m in supernet.modules() if isinstance(m, OneShotMutableOP)]
    assert len(layers) == 16 and all(layer.choices == ['0', '1', '2', '3'] for layer in layers)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    assert len(mutator.search_groups) == 16
    for stage in (supernet.layer1, supernet.layer2, supernet.layer3, supernet.layer4):
        shortcuts = {id(candidate.downsample) for candidate in stage[0]._candidates.values()}
        assert len(shortcuts) == 1 and None not in {c.downsample for c in stage[0]._candidates.values()}


def test_initialisation_is_the_official_codes():
    # Kaiming conv weights, every candidate's last BN at zero, split-attention biases at PyTorch's default (the
    # official code initialises only conv weights; mmengine's Kaiming init would zero the biases)
    from mmpretrain.models.backbones.resnest import SplitAttentionConv2d
    torch.manual_seed(0)
    supernet = PiNASResNeSt(zero_init_residual=True, **SMALL)
    supernet.init_weights()
    blocks = [candidate for layer in supernet.modules() if isinstance(layer, OneShotMutableOP)
              for candidate in layer._candidates.values()]
    assert all(torch.equal(block.norm3.weight, torch.zeros_like(block.norm3.weight)) for block in blocks)
    attention = [m for m in supernet.modules() if isinstance(m, SplitAttentionConv2d)]
    assert len(attention) == len(blocks)
    for module in attention:
        for conv in (module.fc1, module.fc2):
            bound = conv.weight[0].numel() ** -0.5
            assert conv.bias.abs().max() <= bound and conv.bias.abs().max() > bound / 10
    biases = {name: p.clone() for name, p in supernet.named_parameters() if name.endswith('.bias')}
    supernet.init_weights()  # a second call (mmengine warns) must not draw the biases again
    assert all(torch.equal(p, biases[name]) for name, p in supernet.named_parameters() if name in biases)


def test_all_1_subnet_is_resnest50_and_loads_its_weights():
    from mmpretrain.models import ResNeSt
    resnest50 = ResNeSt(depth=50, stem_channels=64, out_indices=(3, ))
    subnet = PiNASResNeSt(arch='1' * 16, out_indices=(3, ))
    expected = {key: value.shape for key, value in resnest50.state_dict().items()}
    assert {key: value.shape for key, value in subnet.state_dict().items()} == expected
    subnet.load_state_dict(resnest50.state_dict(), strict=True)  # the names are the same: no mapping
    resnest50.eval()  # (mmpretrain's ResNet.train returns None: no chaining)
    subnet.eval()
    inputs = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(subnet(inputs)[0], resnest50(inputs)[0])


@pytest.mark.parametrize('subnet', ['32103', '00000', '13231'])
def test_fixed_subnet_gives_the_supernet_path_outputs(subnet):
    torch.manual_seed(0)
    supernet = PiNASResNeSt(**SMALL)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    layers = [m for m in supernet.modules() if isinstance(m, OneShotMutableOP)]
    for layer, choice in zip(layers, subnet):
        layer.current_choice = choice
    inputs = torch.randn(4, 3, 64, 64)
    settle_batch_norm_statistics(supernet, inputs)
    fixed = PiNASResNeSt(arch=subnet, **SMALL)
    fixed.load_state_dict(subnet_state_dict(supernet.state_dict(), supernet.layer_names, fixed.subnet), strict=True)
    fixed.eval()
    for mode in ('eval', 'train'):  # running statistics, then batch statistics
        supernet.train(mode == 'train')
        fixed.train(mode == 'train')
        with torch.no_grad():
            for a, b in zip(supernet(inputs), fixed(inputs)):
                torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    # only the chosen candidates are held
    assert not any(isinstance(m, OneShotMutableOP) for m in fixed.modules())
    assert sum(p.numel() for p in fixed.parameters()) < sum(p.numel() for p in supernet.parameters()) / 2


def test_mmrazor_export_round_trips_through_the_fixed_backbone(tmp_path):
    supernet = PiNASResNeSt(**SMALL)
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    mutator.set_choices(mutator.sample_choices())
    exported = convert_fix_subnet(export_fix_subnet(supernet)[0])
    from mmengine import fileio
    fileio.dump(exported, tmp_path / 'subnet.yaml')
    fixed = PiNASResNeSt(arch=str(tmp_path / 'subnet.yaml'), **SMALL)
    assert fixed.subnet == [layer.current_choice for layer in supernet.modules()
                            if isinstance(layer, OneShotMutableOP)]


def test_every_subnet_form_reads_the_same(tmp_path, repo_root):
    layers = PiNASResNeSt(arch=PINAS_TRANS).layer_names
    expected = list(PINAS_TRANS)
    forms = [
        PINAS_TRANS,
        ' '.join(PINAS_TRANS),
        [int(d) for d in PINAS_TRANS],
        {f'architecture.backbone.{name}': {'chosen': d} for name, d in zip(layers, PINAS_TRANS)},
        f'{repo_root}/configs/pinas/subnets/pinas-trans.yaml',
    ]
    for form in forms:
        assert parse_subnet(form, layers, ['0', '1', '2', '3']) == expected, form


@pytest.mark.parametrize('written', ['arch=03002', "arch='03002'", 'arch="03002"'])
def test_a_subnet_given_on_the_command_line_keeps_its_leading_zeros(written):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)  # pinas_mm's, as its tools use
    options = parser.parse_args(['--cfg-options', written, 'lr=0.01', 'depth=50']).cfg_options
    assert options == dict(arch='03002', lr=0.01, depth=50)  # other values are read as mmengine reads them
    assert ''.join(PiNASResNeSt(**SMALL, arch=options['arch']).subnet) == '03002'


@pytest.mark.parametrize('arch, digits', [(3002, 4), (300201, 6)])
def test_a_number_of_another_digit_count_is_refused_saying_to_quote_it(arch, digits):
    with pytest.raises(SubnetError, match=f'number of {digits} digits, the space has 5 layers.*quote it'):
        PiNASResNeSt(**SMALL, arch=arch)
    assert ''.join(PiNASResNeSt(**SMALL, arch=30021).subnet) == '30021'  # one digit a layer: the same subnet


@pytest.mark.parametrize('name, digits', [('pinas-trans', '3333113330011021'), ('pinas-cls', '3013231203213032'),
                                          ('resnest50', '1' * 16)])
def test_shipped_subnets_are_the_papers(repo_root, name, digits):
    backbone = PiNASResNeSt(arch=f'{repo_root}/configs/pinas/subnets/{name}.yaml')
    assert ''.join(backbone.subnet) == digits


@pytest.mark.parametrize('subnet, message', [
    ('333311333001102', 'subnet has 15 layers, the space has 16 (layer1.0..layer4.2)'),
    ('3333713330011021', "layer2.1: unknown candidate '7', expected one of ['0', '1', '2', '3']"),
    ('03 3 3 3 1 1 3 3 3 0 0 1 1 0 2 1', "layer1.0: 2 candidates ['0', '3'] chosen, but the space is single-path"),
    ({'layer1.0': {'chosen': '3'}}, "missing ['layer1.1'"),
    ({'backbone.stem.0': {'chosen': '3'}}, "subnet entry 'backbone.stem.0' names no searchable layer"),
    ('missing.yaml', 'subnet file missing.yaml does not exist'),
])
def test_bad_subnets_name_the_layer_and_what_was_expected(subnet, message):
    with pytest.raises((SubnetError, FileNotFoundError)) as error:
        PiNASResNeSt(arch=subnet)
    assert message in str(error.value)


def test_supernet_weights_of_another_space_are_refused():
    supernet = PiNASResNeSt(**SMALL, candidates=((1, 1, 64), (2, 1, 64)))  # only candidates '0' and '1'
    with pytest.raises(SubnetError, match="layer1.0: the supernet weights have no candidate '3'"):
        subnet_state_dict(supernet.state_dict(), supernet.layer_names, ['3', '0', '0', '0', '0'])


def test_dilated_form_for_deeplab_has_output_stride_8():
    backbone = PiNASResNeSt(arch='0' * 5, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), **SMALL)
    outputs = backbone(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape[-2:]) for o in outputs] == [(16, 16), (8, 8), (8, 8), (8, 8)]


def test_frozen_stages_and_norm_eval_survive_train_mode():
    backbone = PiNASResNeSt(frozen_stages=1, norm_eval=True, **SMALL)
    backbone.train()
    frozen = [p for m in (backbone.stem, backbone.layer1) for p in m.parameters()]
    assert frozen and not any(p.requires_grad for p in frozen)
    assert all(p.requires_grad for p in backbone.layer2.parameters())
    assert not any(m.training for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_too_narrow_space_names_the_layer_and_candidate():
    with pytest.raises(ValueError, match="layer1.0: candidate '3' .* 5 channels per group at stage width 8"):
        PiNASResNeSt(stage_blocks=(1, 1, 1, 1), stem_channels=8, base_channels=8)


def test_a_candidates_width_applies_at_cardinality_1_too():
    """ResNeSt's group width int(mid * width / 64) * cardinality; mmpretrain's block alone keeps width 64 there."""
    candidates = ((1, 1, 16), (2, 1, 32), (1, 2, 42), (2, 2, 80))
    subnet = PiNASResNeSt(arch='01230', candidates=candidates, stage_blocks=(1, 1, 2, 1), stem_channels=16,
                          base_channels=16)
    widths = [subnet.get_submodule(name).conv1.out_channels for name in subnet.layer_names]
    assert widths == [16 * 16 // 64, 32 * 32 // 64, 64 * 42 // 64 * 2, 64 * 80 // 64 * 2, 128 * 16 // 64]
    assert subnet(torch.randn(2, 3, 32, 32))[-1].shape == (2, 512, 1, 1)
