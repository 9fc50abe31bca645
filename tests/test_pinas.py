# Copyright (c) pinas_mm contributors. All rights reserved.
"""The Pi-NAS algorithm: which view goes through which path and network, what the step may and may not update."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from pinas_mm.models.utils import sample_two_paths, unsampled_parameters
from pinas_mm.registry import MODELS

BACKBONE = dict(type='PiNASResNeSt', stage_blocks=(1, 2, 1, 1), stem_channels=16, base_channels=16, out_indices=(3, ))


def build_pinas(**kwargs):
    init_default_scope('mmrazor')
    cfg = dict(type='PiNAS', backbone=dict(BACKBONE, **kwargs.pop('backbone', {})),
               neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64, out_channels=16, with_avg_pool=True),
               head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
               queue_len=32, feat_dim=16, **kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def batch(num_views=4, size=8):
    return dict(inputs=[torch.randint(0, 255, (size, 3, 32, 32), dtype=torch.uint8) for _ in range(num_views)],
                data_samples=[DataSample() for _ in range(size)])


def sgd(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4))


@pytest.mark.parametrize('max_paths', [1, 2])
def test_the_two_paths_differ_in_every_layer(max_paths):
    model = build_pinas(backbone=dict(max_paths=max_paths))
    for _ in range(20):
        alpha, beta = sample_two_paths(model.student_layers, model.path_generator)
        for a, b in zip(alpha, beta):
            a, b = (set(a), set(b)) if max_paths > 1 else ({a}, {b})
            assert a and b and not a & b
    alpha, beta = sample_two_paths(model.student_layers, model.path_generator, cross_path=False)
    assert alpha == beta


def test_views_paths_and_networks_are_paired_as_in_the_paper(monkeypatch):
    model = build_pinas()
    data = model.data_preprocessor(batch(), True)
    views = {id(view): index + 1 for index, view in enumerate(data['inputs'])}
    calls = []
    embed, encode_key = model.embed, model._encode_key

    def student_or_teacher(view, path, teacher=False):
        if not teacher:  # the teacher embeds a shuffled copy of its view: recorded by _encode_key
            calls.append(('student', views[id(view)], path))
        return embed(view, path, teacher)

    monkeypatch.setattr(model, 'embed', student_or_teacher)
    monkeypatch.setattr(model, '_encode_key', lambda v, p: calls.append(('teacher', views[id(v)], p))
                        or encode_key(v, p))
    model.loss(data['inputs'], data['data_samples'])
    (_, _, alpha), (_, _, beta) = calls[0], calls[2]
    assert alpha != beta
    # the official code's order: alpha's query and key (the teacher moved on alpha), then beta's
    assert calls == [('student', 1, alpha), ('teacher', 2, alpha), ('student', 3, beta), ('teacher', 4, beta)]


def test_teacher_moves_once_per_path_and_keeps_its_own_buffers():
    # the official code: the teacher moves before each key, on that key's path, parameters only
    model = build_pinas(momentum=0.5)  # mmengine's 1 - m: m = 0.5, so each update is visible
    model.train_step(batch(), sgd(model))  # the teacher's first update copies the student's parameters
    generator_state = model.path_generator.get_state()
    alpha, beta = sample_two_paths(model.student_layers, model.path_generator)
    model.path_generator.set_state(generator_state)
    student, teacher = dict(model.backbone.named_parameters()), dict(model.encoder_k.module[0].named_parameters())
    with torch.no_grad():
        for param in student.values():
            param.add_(1.)
    teacher_before = {n: p.detach().clone() for n, p in teacher.items()}
    layer = model.student_layers[0]
    only_alpha = f'layer1.0._candidates.{alpha[0]}.conv1.weight'
    unsampled = next(c for c in layer.choices if c not in (alpha[0], beta[0]))
    layer._candidates[unsampled].norm3.running_mean.fill_(7.)  # a student buffer the teacher must not copy
    data = model.data_preprocessor(batch(), True)
    model.loss(data['inputs'], data['data_samples'])  # the teacher moves inside the loss, before any optimizer step
    stem = 'stem.0.conv.weight'  # shared by both paths: moved twice
    for name, share in ((stem, 0.75), (only_alpha, 0.5)):
        torch.testing.assert_close(teacher[name], (1 - share) * teacher_before[name] + share * student[name])
    unsampled_name = f'layer1.0._candidates.{unsampled}.conv1.weight'
    assert torch.equal(teacher[unsampled_name], teacher_before[unsampled_name])
    teacher_layer = model.teacher_layers[0]
    assert not torch.equal(teacher_layer._candidates[unsampled].norm3.running_mean,
                           layer._candidates[unsampled].norm3.running_mean)


def test_first_teacher_update_copies_parameters_but_not_the_students_bn_statistics():
    # the official teacher starts as a copy of the student's parameters; its BN statistics are only ever its own
    model = build_pinas()
    student, teacher = torch.nn.Sequential(model.backbone, model.neck), model.encoder_k.module
    with torch.no_grad():
        for param in student.parameters():
            param.add_(1.)
        for buffer in student.buffers():
            buffer.fill_(7)
    buffers_before = copy.deepcopy(dict(teacher.named_buffers()))
    model.encoder_k.update_parameters(student)
    for (name, param), source in zip(teacher.named_parameters(), student.parameters()):
        assert torch.equal(param, source), name
    for name, buffer in teacher.named_buffers():
        assert torch.equal(buffer, buffers_before[name]), name


def test_unsampled_candidates_get_no_gradient_update_or_teacher_update():
    model = build_pinas()
    optim_wrapper = sgd(model)
    model.train_step(batch(), optim_wrapper)  # the teacher's first update copies everything
    generator_state = model.path_generator.get_state()
    alpha, beta = sample_two_paths(model.student_layers, model.path_generator)
    model.path_generator.set_state(generator_state)  # the next step draws exactly these paths
    unsampled = {id(p) for p in unsampled_parameters(model.student_layers, alpha, beta)}
    assert unsampled
    names = [n for n, p in model.named_parameters() if not n.startswith('encoder_k.')]
    with torch.no_grad():  # student != teacher everywhere, so any teacher update shows
        for name in names:
            dict(model.named_parameters())[name].add_(0.01)
    student_before = {n: p.detach().clone() for n, p in model.named_parameters() if n in names}
    teacher_before = copy.deepcopy(model.encoder_k.module.state_dict())
    model.train_step(batch(), optim_wrapper)
    params = dict(model.named_parameters())
    teacher_after = model.encoder_k.module.state_dict()
    for name in names:
        teacher_name = name.replace('backbone.', '0.', 1).replace('neck.', '1.', 1)
        moved = not torch.equal(params[name], student_before[name])
        teacher_moved = not torch.equal(teacher_after[teacher_name], teacher_before[teacher_name])
        if id(params[name]) in unsampled:
            assert params[name].grad is None and not moved and not teacher_moved, name  # no decay, no momentum
        elif name.endswith('weight') and 'downsample.0' not in name:
            assert moved and teacher_moved, name


def test_queue_receives_the_unnormalised_mean_of_both_keys(monkeypatch):
    model = build_pinas()
    keys = []
    encode_key = model._encode_key
    monkeypatch.setattr(model, '_encode_key', lambda v, p: keys.append(encode_key(v, p)) or keys[-1])
    data = model.data_preprocessor(batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    key_alpha, key_beta = keys
    torch.testing.assert_close(model.queue[:, :8].T, (key_alpha + key_beta) / 2)  # as the official code
    assert int(model.queue_ptr) == 8 and float(losses['queue_fill']) == 8 / 32


def test_without_negatives_the_queue_is_untouched_and_the_loss_is_cosine():
    model = build_pinas(use_negatives=False)
    queue = model.queue.clone()
    data = model.data_preprocessor(batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert torch.equal(model.queue, queue) and 'queue_fill' not in losses
    assert 0 <= float(losses['loss_alpha_beta']) <= 4


def test_path_generator_is_saved_with_the_model_and_restored():
    model = build_pinas()
    state = copy.deepcopy(model.state_dict())
    expected = sample_two_paths(model.student_layers, model.path_generator)
    other = build_pinas()
    other.load_state_dict(state)
    assert sample_two_paths(other.student_layers, other.path_generator) == expected


def test_bad_inputs_are_refused_with_what_was_expected():
    model = build_pinas()
    data = model.data_preprocessor(batch(num_views=2), True)
    with pytest.raises(ValueError, match='needs 4 views .*got 2 views'):
        model.loss(data['inputs'], data['data_samples'])
    with pytest.raises(TypeError, match='has no searchable layers'):
        build_pinas(backbone=dict(arch='00000'))


def test_all_zero_gradients_get_no_update_as_with_the_official_optimizer_hook():
    # a fresh supernet's last BN of every candidate is zero, so the branch weights before it get all-zero gradients:
    # with the hook SGD leaves them alone (no weight decay), without it they decay
    from types import SimpleNamespace

    from pinas_mm.engine.hooks import ZeroGradAsNoneHook
    moved = {}
    for with_hook in (True, False):
        model = build_pinas(backbone=dict(zero_init_residual=True))
        model.init_weights()
        optim_wrapper = sgd(model)
        if with_hook:
            ZeroGradAsNoneHook().before_train(SimpleNamespace(optim_wrapper=optim_wrapper))
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        model.train_step(batch(), optim_wrapper)
        alpha = model.last_paths[0][0]
        params = dict(model.named_parameters())
        moved[with_hook] = {part: not torch.equal(params[name], before[name]) for part, name in (
            ('branch', f'backbone.layer1.0._candidates.{alpha}.conv1.weight'),
            ('last BN', f'backbone.layer1.0._candidates.{alpha}.bn3.weight'))}
    assert moved[True] == {'branch': False, 'last BN': True}
    assert moved[False] == {'branch': True, 'last BN': True}
