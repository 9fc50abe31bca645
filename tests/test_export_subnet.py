# Copyright (c) pinas_mm contributors. All rights reserved.
"""tools/export_subnet.py: a supernet checkpoint becomes a standalone backbone that loads as `Pretrained` and computes
exactly what the supernet path computed."""
import random
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmrazor.models.mutables import OneShotMutableOP

from pinas_mm.apis import export_subnet, find_backbone_cfg
from pinas_mm.models import PiNASResNeSt
from pinas_mm.registry import MODELS
from pinas_mm.structures import SubnetError, format_subnet
from conftest import run_tool

SMALL = dict(stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16, out_indices=(0, 1, 2, 3))
SUBNET = '31203'

SUPERNET_CONFIG = f'''
default_scope = 'mmrazor'
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)
model = dict(
    type='SPOS',
    architecture=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(_scope_='mmrazor', type='PiNASResNeSt', **{SMALL}),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512)),
    mutator=dict(type='NasMutator'))
'''


@pytest.fixture(scope='module')
def trained_supernet(tmp_path_factory):
    """An SPOS supernet (random weights, settled BN statistics) saved as a runner would save it."""
    folder = tmp_path_factory.mktemp('supernet')
    (folder / 'supernet.py').write_text(SUPERNET_CONFIG)
    init_default_scope('mmrazor')
    torch.manual_seed(0)
    algorithm = MODELS.build(Config.fromfile(folder / 'supernet.py').model)
    backbone = algorithm.architecture.backbone
    with torch.no_grad():
        for _ in range(3):
            algorithm.mutator.set_choices(algorithm.mutator.sample_choices())
            backbone(torch.randn(4, 3, 64, 64))
    torch.save(dict(state_dict=algorithm.state_dict(), meta=dict(epoch=1)), folder / 'epoch_1.pth')
    for layer, choice in zip([m for m in backbone.modules() if isinstance(m, OneShotMutableOP)], SUBNET):
        layer.current_choice = choice
    backbone.eval()
    return folder, backbone


def test_exported_backbone_loads_as_pretrained_and_matches_the_supernet_path(trained_supernet, tmp_path):
    folder, supernet_backbone = trained_supernet
    out = tmp_path / 'subnet.pth'
    result = subprocess.run([sys.executable, 'tools/export_subnet.py', str(folder / 'supernet.py'),
                             str(folder / 'epoch_1.pth'), '--subnet', SUBNET, '--out', str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = torch.load(out, weights_only=True)  # only tensors and plain metadata
    assert checkpoint['meta']['subnet'] == SUBNET and checkpoint['meta']['supernet_prefix'] == 'architecture.backbone.'
    assert all(key.startswith('backbone.') for key in checkpoint['state_dict'])
    backbone = PiNASResNeSt(arch=str(tmp_path / 'subnet.yaml'), **SMALL,
                            init_cfg=dict(type='Pretrained', checkpoint=str(out), prefix='backbone.'))
    backbone.init_weights()
    backbone.eval()
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(backbone(inputs), supernet_backbone(inputs)):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_checkpoint_of_another_space_is_refused(trained_supernet):
    folder, _ = trained_supernet
    state_dict = torch.load(folder / 'epoch_1.pth', weights_only=True)['state_dict']
    other_space = find_backbone_cfg(Config.fromfile(folder / 'supernet.py').model)
    other_space.base_channels = 32
    with pytest.raises(SubnetError, match=r"not a supernet of this config's space(.|\n)*size mismatch for layer1.0"):
        export_subnet(other_space, state_dict, SUBNET)


def test_checkpoint_without_or_with_two_supernets_is_refused(trained_supernet):
    folder, _ = trained_supernet
    state_dict = torch.load(folder / 'epoch_1.pth', weights_only=True)['state_dict']
    backbone_cfg = find_backbone_cfg(Config.fromfile(folder / 'supernet.py').model)
    with pytest.raises(SubnetError, match='found none'):
        export_subnet(backbone_cfg, {'fc.weight': torch.zeros(1)}, SUBNET)
    two = {**state_dict, **{f'teacher.{key}': value for key, value in state_dict.items()}}
    with pytest.raises(SubnetError, match='found several .*--prefix'):
        export_subnet(backbone_cfg, two, SUBNET)
    export_subnet(backbone_cfg, two, SUBNET, prefix='teacher.architecture.backbone.')
    # Pi-NAS: the student, not the EMA teacher (encoder_k), unless asked
    pinas = {**{f'backbone.{k[len("architecture.backbone."):]}': v for k, v in state_dict.items()
                if k.startswith('architecture.backbone.')},
             **{f'encoder_k.module.0.{k[len("architecture.backbone."):]}': v * 0 for k, v in state_dict.items()
                if k.startswith('architecture.backbone.')}}
    _, student = export_subnet(backbone_cfg, pinas, SUBNET)
    assert student['meta']['supernet_prefix'] == 'backbone.'
    assert any(v.abs().sum() > 0 for v in student['state_dict'].values())


def test_a_damaged_checkpoint_is_named_and_the_safe_loader_kept(trained_supernet, tmp_path):
    folder, _ = trained_supernet
    damaged = tmp_path / 'damaged.pth'
    damaged.write_bytes((folder / 'epoch_1.pth').read_bytes()[:1000])  # a copy cut short
    status, output = run_tool('tools/export_subnet.py', str(folder / 'supernet.py'), str(damaged), '--subnet', SUBNET,
                              '--out', str(tmp_path / 'subnet.pth'))
    assert status == 1  # a refusal (sys.exit with its message); an unexpected exception would fail here instead
    assert output.strip().splitlines()[-1].startswith(f'error: {damaged} is not a checkpoint, or no longer one')
    assert 'weights_only' not in output
    assert not (tmp_path / 'subnet.pth').exists()


def export_until_written(command, out_dir, delay=None):
    """Run an export; with ``delay``, kill -9 it that many seconds after its first temporary file appears. Without,
    return how long its temporary files lived: the time it takes to write."""
    existing = {p.name for p in out_dir.iterdir()}

    def temporaries():
        return {p.name for p in out_dir.iterdir() if p.name.startswith('.') or p.suffix == '.tmp'} - existing

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while process.poll() is None and not temporaries():
        time.sleep(0.001)
    start = time.monotonic()
    if delay is not None:
        time.sleep(delay)
        process.kill()
    while process.poll() is None and temporaries():
        time.sleep(0.001)
    written = time.monotonic() - start
    returncode = process.wait(timeout=120)
    assert returncode == 0 or delay is not None and returncode == -9, process.stderr.read()[-3000:]
    process.stderr.close()
    return written


def load_pair(out):
    """The exported pair as a user loads it; refused if the checkpoint is of another subnet than the YAML."""
    backbone = PiNASResNeSt(arch=str(out.with_suffix('.yaml')), **SMALL,
                            init_cfg=dict(type='Pretrained', checkpoint=str(out), prefix='backbone.'))
    backbone.init_weights()
    return format_subnet(backbone.subnet)


def test_a_re_export_killed_at_a_random_moment_keeps_a_whole_pair(trained_supernet, tmp_path):
    folder, _ = trained_supernet
    out = tmp_path / 'subnet.pth'
    command = [sys.executable, 'tools/export_subnet.py', str(folder / 'supernet.py'), str(folder / 'epoch_1.pth'),
               '--out', str(out), '--subnet']
    window = export_until_written(command + [SUBNET], tmp_path)  # the first export; how long its writing takes
    (tmp_path / 'subnet.pth.tmp').write_bytes(b'a temporary that an older crash left')
    rng = random.Random(0)
    for subnet in ('02130', '13021'):
        before = load_pair(out)  # a kill after the commit leaves the new pair, so the next one starts from it
        export_until_written(command + [subnet], tmp_path, delay=rng.uniform(0, window))
        assert load_pair(out) in (before, subnet)
    export_until_written(command + ['20312'], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['subnet.pth', 'subnet.yaml']
    assert load_pair(out) == '20312'


def test_a_refused_export_writes_nothing(trained_supernet, tmp_path):
    folder, _ = trained_supernet
    status, output = run_tool('tools/export_subnet.py', str(folder / 'supernet.py'), str(folder / 'epoch_1.pth'),
                              '--subnet', '3120', '--out', str(tmp_path / 'new' / 'x.pth'))
    assert status == 1 and output.strip().splitlines()[-1].startswith('error: subnet has 4 layers')
    assert list(tmp_path.iterdir()) == []
