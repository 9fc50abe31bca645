# Copyright (c) pinas_mm contributors. All rights reserved.
"""Checkpoints of the official Pi-NAS code: the converter maps their names onto exactly the model's names and
shapes, the converted model computes what the original did, and anything else is refused by what it lacks.

The official-format state dicts are written here from the official code's module structure (its names, which this
file spells out independently of the converter), with shapes and values from pinas_mm's model."""

import pytest
import torch

from pinas_mm.apis.official_checkpoint import OfficialCheckpointError, detect_format, supernet_to_pinas
from pinas_mm.models import PiNASResNeSt
from conftest import build_from_config, run_script

TOOL = 'tools/model_converters/pinas_official_to_mmrazor.py'
PINAS_CLS = '3013231203213032'
# the official deep stem: nn.Sequential(conv, bn, relu, conv, bn, relu, conv) then bn1
OFFICIAL_STEM = {'stem.0.conv': 'conv1.0', 'stem.0.bn': 'conv1.1', 'stem.1.conv': 'conv1.3', 'stem.1.bn': 'conv1.4',
                 'stem.2.conv': 'conv1.6', 'stem.2.bn': 'bn1'}


def official_backbone_key(key):
    """A pinas_mm backbone key as the official code names it: its stem, its layers as lists of candidates (or one
    block per layer in a retrained subnet), its shortcut an (identity) pool, conv and BN, also at stride 1."""
    for ours, theirs in OFFICIAL_STEM.items():
        if key.startswith(ours + '.'):
            return theirs + key[len(ours):]
    key = key.replace('._candidates.', '.')
    if key.startswith('layer1.0.'):
        key = key.replace('.downsample.1.', '.downsample.2.').replace('.downsample.0.', '.downsample.1.')
    return key


def official_supernet(model):
    """The official learning phase's state dict of the weights of ``model`` (a PiNAS)."""
    official = {}
    for key, value in model.state_dict().items():
        for ours, theirs, is_backbone in (('backbone.', ('encoder_q.0.', 'backbone.'), True),
                                          ('neck.', ('encoder_q.1.', ), False),
                                          ('encoder_k.module.0.', ('encoder_k.0.', ), True),
                                          ('encoder_k.module.1.', ('encoder_k.1.', ), False)):
            if key.startswith(ours):
                rest = key[len(ours):]
                official.update({prefix + (official_backbone_key(rest) if is_backbone else rest): value.clone()
                                 for prefix in theirs})
        if key in ('queue', 'queue_ptr'):
            official[key] = value.clone()
    return official


def convert(src, dst, *options):
    run_script(TOOL, str(src), str(dst), *options)
    return torch.load(dst, map_location='cpu', weights_only=True)


def test_official_backbone_keys_map_one_to_one_onto_the_paper_space():
    ours = PiNASResNeSt().state_dict()
    official = {official_backbone_key(key): value for key, value in ours.items()}
    assert len(official) == len(ours) == 1842
    converted = supernet_to_pinas({f'encoder_q.0.{key}': value for key, value in official.items()})
    assert {key[len('backbone.'):]: value for key, value in converted.items()} == ours  # same tensors, same names


def test_converted_official_supernet_is_the_same_model_and_exports(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    torch.manual_seed(0)
    original = build_from_config('configs/pinas/supernet_mnist5k.py')
    original.init_weights()
    original.queue.normal_()
    torch.save(dict(meta=dict(epoch=100, iter=2000), state_dict=official_supernet(original), optimizer={}),
               tmp_path / 'official.pth')
    checkpoint = convert(tmp_path / 'official.pth', tmp_path / 'pinas.pth', '--config',
                         'configs/pinas/supernet_mnist5k.py')
    assert checkpoint['meta']['official_format'] == 'supernet' and checkpoint['meta']['epoch'] == 100
    model = build_from_config('configs/pinas/supernet_mnist5k.py')
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert int(model.encoder_k.steps) > 0  # the next teacher update averages instead of copying the student
    images = torch.randn(8, 3, 32, 32)
    path = ['1', '3', '0', '2', '1']
    for teacher in (False, True):
        original.eval(), model.eval()
        with torch.no_grad():
            assert torch.equal(model.embed(images, path, teacher), original.embed(images, path, teacher))
    assert torch.equal(model.queue, original.queue)
    run_script('tools/export_subnet.py', 'configs/pinas/supernet_mnist5k.py', str(tmp_path / 'pinas.pth'), '--subnet',
               '13021', '--out', str(tmp_path / 'subnet.pth'))
    assert (tmp_path / 'subnet.yaml').exists()


def test_converted_official_linear_classifier_is_the_linear_probe(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    torch.manual_seed(0)
    probe = build_from_config('configs/pinas/linear_probe_mnist5k.py')
    official = {}
    for key, value in probe.state_dict().items():
        if key.startswith('architecture.backbone.'):
            official['backbone.' + official_backbone_key(key[len('architecture.backbone.'):])] = value
        elif key.startswith('architecture.head.fc.'):
            official['head.fc_cls.' + key[len('architecture.head.fc.'):]] = value
    torch.save(dict(state_dict=official), tmp_path / 'official.pth')
    checkpoint = convert(tmp_path / 'official.pth', tmp_path / 'probe.pth', '--config',
                         'configs/pinas/linear_probe_mnist5k.py')
    model = build_from_config('configs/pinas/linear_probe_mnist5k.py')
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    assert all(torch.equal(value, probe.state_dict()[key]) for key, value in model.state_dict().items())


@pytest.fixture(scope='module')
def retrained_pinas_cls(repo_root):
    """A retrained Pi-NAS-cls classifier (mmpretrain) and its weights as the official verify.py loads them."""
    classifier = build_from_config(f'{repo_root}/configs/pinas/pinas-cls_32xb64_in1k.py')
    official = {official_backbone_key(key[len('backbone.'):]): value
                for key, value in classifier.state_dict().items() if key.startswith('backbone.')}
    official.update({'fc.weight': classifier.head.fc.weight, 'fc.bias': classifier.head.fc.bias})
    return classifier, official


def test_converted_retrained_subnet_is_the_classifier_with_its_subnet_read_off_the_weights(
        repo_root, tmp_path, monkeypatch, retrained_pinas_cls):
    monkeypatch.chdir(repo_root)
    classifier, official = retrained_pinas_cls
    torch.save(dict(epoch=270, state_dict=official, best_pred=81.6), tmp_path / 'PiNAS_cls.pth.tar')
    checkpoint = convert(tmp_path / 'PiNAS_cls.pth.tar', tmp_path / 'pinas_cls.pth')
    assert checkpoint['meta']['subnet'] == PINAS_CLS
    assert (tmp_path / 'pinas_cls.yaml').exists()
    model = build_from_config('configs/pinas/pinas-cls_32xb64_in1k.py',
                              **{'model.backbone.arch': str(tmp_path / 'pinas_cls.yaml')})
    model.load_state_dict(checkpoint['state_dict'], strict=True)
    images = torch.randn(1, 3, 64, 64)
    model.eval(), classifier.eval()
    with torch.no_grad():
        assert torch.equal(model(images), classifier(images))
    with pytest.raises(SystemExit, match='--subnet 3333113330011021, but the weights are of subnet 3013231203213032'):
        convert(tmp_path / 'PiNAS_cls.pth.tar', tmp_path / 'other.pth', '--subnet', '3333113330011021')


def test_backbone_of_an_official_segmentation_model_loads_as_pretrained(repo_root, tmp_path, monkeypatch,
                                                                          retrained_pinas_cls):
    monkeypatch.chdir(repo_root)
    _, official = retrained_pinas_cls
    segmentation = {f'pretrained.{key}': value for key, value in official.items() if not key.startswith('fc.')}
    segmentation['head.conv5.0.weight'] = torch.zeros(1)  # the DeepLab head: not the backbone's
    torch.save(dict(state_dict=segmentation), tmp_path / 'PiNAS_cls_ade.pth.tar')
    checkpoint = convert(tmp_path / 'PiNAS_cls_ade.pth.tar', tmp_path / 'backbone.pth')
    assert all(key.startswith('backbone.') for key in checkpoint['state_dict'])
    backbone = PiNASResNeSt(arch=str(tmp_path / 'backbone.yaml'),
                            init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'backbone.pth'),
                                          prefix='backbone.'))
    backbone.init_weights()  # strict: every weight of the subnet, or an error


@pytest.mark.parametrize('state_dict, message', [
    (dict(weight=torch.zeros(1)), "not an official Pi-NAS checkpoint: .*its first key is 'weight'"),
    ({'encoder_q.0.layer1.0.0.conv1.weight': torch.zeros(1), 'encoder_q.1.mlp.0.weight': torch.zeros(1)},
     r'not a complete official Pi-NAS supernet checkpoint: it has no encoder_k.0 \(the teacher supernet\), no '
     r'encoder_k.1 \(the teacher projector\), no queue \(the negatives\), no queue_ptr'),
])
def test_other_checkpoints_are_refused_naming_what_they_lack(state_dict, message):
    with pytest.raises(OfficialCheckpointError, match=message):
        detect_format(state_dict)


def test_a_supernet_of_another_space_is_refused_with_the_weights_that_differ(repo_root, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    small = build_from_config('configs/pinas/supernet_mnist5k.py', **{'model.neck.hid_channels': 256})
    torch.save(dict(state_dict=official_supernet(small)), tmp_path / 'official.pth')
    with pytest.raises(SystemExit, match=r'does not map onto the model: \d+ weights of another shape'):
        convert(tmp_path / 'official.pth', tmp_path / 'pinas.pth', '--config', 'configs/pinas/supernet_mnist5k.py')
    assert not (tmp_path / 'pinas.pth').exists()
