# Copyright (c) pinas_mm contributors. All rights reserved.
"""Numerical parity of pinas_mm's Pi-NAS with the official code (github.com/Ernie1/Pi-NAS, an OpenSelfSup fork).

The official files run as they are, imported at run time from a checkout (``--official DIR``, or ``--official-git``'s
commit archived into /tmp): ``models/backbones/super_resnest.py`` and its ``layers/`` helpers, ``models/pinas.py``,
``moco.py``, ``necks.py``, ``heads/contrastive_head.py``, ``hooks/optimizer_hook.py``, in an ``openselfsup`` package
tree without its ``__init__`` files, with stand-ins for what they import from the old stack (``official_shims``).
Models: ``configs/pinas_learning.py``'s (16 layers x 4 candidates, deep stem, avg-down shortcuts shared by a layer's
candidates, last BNs at zero, NonLinearNeckV1, T = 0.2, m = 0.999, its SGD) and ``configs/pinas/supernet.py``'s,
with a short queue. Float64 on CPU, full-size models, small images, a one-process gloo group (the official
all_gather and broadcast run as they are; its ``.cuda()`` is a no-op).

1. Backbone: the official ``SuperResNet`` (every BN made random, so that each candidate's branch counts) and
   ``PiNASResNeSt()`` with its weights through the project's converter (``_rename_backbone_key``), loaded strictly;
   outputs through all-0 .. all-3 and random paths, in eval mode, then in train mode.
2. Training steps: both ``PiNAS`` with the same weights (the official state dict through ``supernet_to_pinas``),
   views, paths (the official numpy draws and pinas_mm's ``sample_two_paths`` patched alike) and shuffle-BN
   permutations (torch's generator seeded alike; recorded and compared); alpha and beta are not exchanged. The
   official step runs through its optimizer hook (backward, all-zero gradients to None, SGD); pinas_mm's through
   ``loss.backward()`` and SGD with ``drop_zero_gradients`` as a step pre-hook. After each step: the loss, every
   gradient SGD receives (and which are None), the student's parameters and BN statistics, the teacher's, the queue
   and its pointer. Starts: ``official init`` (the official model as built: teacher = student; pinas_mm's teacher
   copies the student at its first update); ``trained-like`` (every BN random, the teacher off the student, the
   queue one batch before wrapping, pinas_mm's teacher past its first update, as the converter leaves a trained
   checkpoint); and the latter again with pinas_mm's EMA rounding as the official code's (``k * m + q * (1 - m)``
   with m = 0.999, where pinas_mm, as mmengine, computes ``k.lerp_(q, 0.001)``): it tells rounding from a real
   difference.
3. Initialisation rule: the split-attention fc1/fc2 biases of both fresh supernets are PyTorch's default (no zero,
   within 1 / sqrt(fan_in)).

A difference is ``max|official - pinas_mm| / max(1, max|official|)`` per tensor (absolute below 1, relative
above); one above ``--tolerance`` (1e-9), or a tensor present in one code only, fails the run (exit status 1).

Run: ``python benchmarks/official_parity.py --official-git /work/.mirror/Ernie1+Pi-NAS/repo [--official DIR]
[--batch 4] [--size 64] [--steps 2] [--threads 2]`` (2.5 to 5 minutes on 2 shared CPU cores); prints a table and writes
``benchmarks/results/official_parity.{json,md}`` (``--results-dir DIR``: in DIR).
"""
import argparse
import collections.abc
import contextlib
import datetime
import importlib.machinery
import itertools
import logging
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
import types
from unittest import mock

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import constant_init, kaiming_init, normal_init
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmpretrain.models.backbones.resnest import SplitAttentionConv2d
from mmpretrain.structures import DataSample

import pinas_mm.models.algorithms.pinas as pinas_algorithm  # importing pinas_mm checks the stack, registers
from pinas_mm.apis.official_checkpoint import _rename_backbone_key, supernet_to_pinas
from pinas_mm.engine.hooks.zero_grad_as_none_hook import drop_zero_gradients
from pinas_mm.models import PiNASResNeSt
from pinas_mm.models.utils import apply_path, searchable_layers
from pinas_mm.registry import MODELS
from supernet_overhead import RESULTS, machine_info, save_results, table_head  # benchmarks/ is on sys.path

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
OFFICIAL_URL = 'https://github.com/Ernie1/Pi-NAS'
OFFICIAL_CONFIG = 'OpenSelfSup/configs/pinas_learning.py'
PACKAGES = ('openselfsup', 'openselfsup.models', 'openselfsup.models.backbones', 'openselfsup.models.backbones.layers',
            'openselfsup.models.utils', 'openselfsup.models.heads', 'openselfsup.hooks')
LAYER_HELPERS = {'adaptive_avgmax_pool': ('SelectAdaptivePool2d', ), 'drop': ('DropBlock2d', 'DropPath'),
                 'pool2d_same': ('AvgPool2dSame', ), 'blur_pool': ('BlurPool2d', )}  # what super_resnest.py imports
MODEL_FILES = ('builder', 'backbones.super_resnest', 'necks', 'heads.contrastive_head', 'moco', 'pinas')
PINAS_ONLY = ('num_enqueued', '_extra_state', 'encoder_k.steps')  # pinas_mm state without official counterpart
# start: (BNs and teacher made trained-like, pinas_mm's EMA rounding as the official code's, seed of views and paths)
STARTS = {'official init': (False, False, 100), 'trained-like': (True, False, 200),
          'trained-like, official EMA rounding': (True, True, 200)}


def git(*args):
    return subprocess.run(['git', *args], check=True, capture_output=True, text=True).stdout.strip()


def official_checkout(args):
    """(folder, commit): ``--official`` as it is, or ``--official-git``'s commit archived into a scratch folder (made
    once, then reused; its ``OFFICIAL_COMMIT`` names the commit)."""
    folder = args.official
    if args.official_git:
        commit = git('--git-dir', args.official_git, 'rev-parse', args.commit + '^{commit}')
        folder = folder or osp.join(tempfile.gettempdir(), f'pinas_official_{commit[:12]}')
        if not osp.isdir(osp.join(folder, 'OpenSelfSup', 'openselfsup')):
            os.makedirs(folder, exist_ok=True)
            archive = subprocess.run(['git', '--git-dir', args.official_git, 'archive', commit,
                                      'OpenSelfSup/openselfsup', 'OpenSelfSup/configs'], check=True,
                                     capture_output=True).stdout
            subprocess.run(['tar', '-x', '-C', folder], input=archive, check=True)
            with open(osp.join(folder, 'OFFICIAL_COMMIT'), 'w') as f:
                f.write(commit + '\n')
        return folder, commit
    if osp.exists(osp.join(folder, 'OFFICIAL_COMMIT')):
        return folder, open(osp.join(folder, 'OFFICIAL_COMMIT')).read().strip()
    try:
        return folder, git('-C', folder, 'rev-parse', 'HEAD')
    except subprocess.CalledProcessError:
        return folder, 'unknown'


def official_shims():
    """Stand-ins for what the official files import from the old stack: mmcv 1.x's ``mmcv.runner`` (the
    ``OptimizerHook`` base, whose ``every_n_iters`` the official hook calls) and ``mmcv.cnn`` init helpers
    (mmengine's, the same functions), apex (fp16 only), ``torch._six`` (gone from torch 2) and ``openselfsup.utils``
    (a registry keeping classes by name, ``build_from_cfg``, loggers)."""
    class Registry:
        def __init__(self, name):
            self.name, self.module_dict = name, {}

        def register_module(self, cls):
            self.module_dict[cls.__name__] = cls
            return cls

    def build_from_cfg(cfg, registry, default_args=None):
        cfg = dict(cfg, **(default_args or {}))
        return registry.module_dict[cfg.pop('type')](**cfg)

    class OptimizerHook:
        def every_n_iters(self, runner, n):
            return (runner.iter + 1) % n == 0

    def module(name, **attributes):
        stub = types.ModuleType(name)
        stub.__dict__.update(attributes)
        return stub

    return {'openselfsup.utils': module('openselfsup.utils', Registry=Registry, build_from_cfg=build_from_cfg,
                                        get_root_logger=logging.getLogger, print_log=lambda msg, logger=None: None),
            'mmcv.runner': module('mmcv.runner', OptimizerHook=OptimizerHook, load_checkpoint=load_checkpoint),
            'mmcv.cnn': module('mmcv.cnn', constant_init=constant_init, kaiming_init=kaiming_init,
                               normal_init=normal_init),
            'apex': module('apex'), 'torch._six': module('torch._six', container_abcs=collections.abc)}


def create_attn(attn_type, channels, **kwargs):
    """timm's ``create_attn`` as the official blocks call it (no attention); its file pulls in TorchScript
    activations and more, so it is not imported."""
    if attn_type is not None:
        raise NotImplementedError(f'attention {attn_type!r}: not part of the Pi-NAS space')


def fake_package(name, folder):
    package = types.ModuleType(name)
    package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    package.__path__ = package.__spec__.submodule_search_locations = [folder]
    return package


@contextlib.contextmanager
def official_imports(root):
    """While open, ``openselfsup`` (the package folder ``root``) imports file by file, its ``__init__`` files left
    out, with the shims; it yields ``import_module`` relative to it. Afterwards ``sys.modules`` is as before (what
    was loaded lives on in the objects taken from it)."""
    modules = official_shims()
    modules.update((name, fake_package(name, osp.join(root, *name.split('.')[1:]))) for name in PACKAGES)
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield lambda name: importlib.import_module('openselfsup.' + name)
    finally:
        for name in [name for name in sys.modules if name.split('.')[0] == 'openselfsup']:
            del sys.modules[name]
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def load_official(folder):
    """The official modules these checks run, as a namespace."""
    with official_imports(osp.join(folder, 'OpenSelfSup', 'openselfsup')) as load:
        utils, layers = (sys.modules[f'openselfsup.models.{name}'] for name in ('utils', 'backbones.layers'))
        norm = load('models.utils.norm')
        utils.norm_cfg, utils.build_norm_layer = norm.norm_cfg, norm.build_norm_layer
        utils.conv_cfg = load('models.utils.conv_module').conv_cfg
        for helper, names in LAYER_HELPERS.items():
            for name in names:
                setattr(layers, name, getattr(load('models.backbones.layers.' + helper), name))
        layers.create_attn = create_attn
        loaded = {name: load('models.' + name) for name in MODEL_FILES}
        return types.SimpleNamespace(builder=loaded['builder'], pinas=loaded['pinas'],
                                     SplitAttnConv2d=load('models.backbones.layers.split_attn').SplitAttnConv2d,
                                     DistOptimizerHook=load('hooks.optimizer_hook').DistOptimizerHook)


def check_space(backbone_cfg):
    """The official candidates, in order, are ``PiNASResNeSt``'s: candidate ``i`` is named ``str(i)`` in both."""
    official = [(c['radix'], c['cardinality'], c['base_width']) for c in backbone_cfg['block_args']['candidate_args']]
    if official != list(PiNASResNeSt.PINAS_CANDIDATES):
        raise SystemExit(f'the official candidates {official} are not {PiNASResNeSt.PINAS_CANDIDATES}')


def randomise_norms(module, generator):
    """Every BN's scale, shift and statistics random: each candidate's last BN (zero when built) shows its branch."""
    with torch.no_grad():
        for norm in (m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
            for tensor, (kind, a, b) in zip((norm.weight, norm.bias, norm.running_mean, norm.running_var),
                                            (('uniform', .5, 1.5), ('normal', 0, .1), ('normal', 0, .1),
                                             ('uniform', .5, 1.5))):
                getattr(tensor, kind + '_')(a, b, generator=generator)


def row(part, quantity, step, pairs, tolerance):
    """One comparison over ``pairs`` (official, pinas_mm) of tensors, None where absent: the largest absolute and
    scaled differences, how many are absent (or of another shape) in one code only, how many None in both."""
    absolute, scaled, mismatched, absent = [0.0], [0.0], 0, 0
    for theirs, ours in pairs:
        if theirs is None and ours is None:
            absent += 1
        elif theirs is None or ours is None or theirs.shape != ours.shape:
            mismatched += 1
        elif theirs.numel():
            absolute.append((theirs.detach().double() - ours.detach().double()).abs().max().item())
            scaled.append(absolute[-1] / max(1.0, theirs.detach().double().abs().max().item()))
    return dict(part=part, quantity=quantity, step=step, compared=len(absolute) - 1, max_abs_diff=max(absolute),
                max_scaled_diff=max(scaled), mismatched=mismatched, none_in_both=absent,
                ok=max(scaled) <= tolerance and not mismatched)


def views(args, index):
    """Four views of ``--batch`` images: normalised floats, as the data preprocessors give them."""
    generator = torch.Generator().manual_seed(args.seed * 1000 + index)
    return [torch.randn(args.batch, 3, args.size, args.size, generator=generator, dtype=torch.float64)
            for _ in range(4)]


def compare_backbones(official, backbone_cfg, args):
    theirs = official.builder.build_backbone(backbone_cfg).double()
    randomise_norms(theirs, torch.Generator().manual_seed(args.seed))
    ours = PiNASResNeSt().double()
    ours.load_state_dict({_rename_backbone_key(k): v for k, v in theirs.state_dict().items()}, strict=True)
    layers, images = searchable_layers(ours), views(args, 0)[0]
    paths = [[c] * len(layers) for c in range(4)] + np.random.RandomState(args.seed).randint(
        4, size=(args.random_paths, len(layers))).tolist()
    rows = []
    for mode in ('eval', 'train'):  # eval first: train mode moves the running statistics (alike in both)
        theirs.train(mode == 'train')
        ours.train(mode == 'train')
        pairs = []
        for path in paths:
            apply_path(layers, [str(c) for c in path])
            with torch.no_grad():
                pairs.append((theirs(images, path)[-1], ours(images)[-1]))
        rows.append(row('backbone', f'output, {mode} mode ({len(paths)} paths)', '-', pairs, args.tolerance))
    return rows


def recording_sgd(model, optim_cfg, *pre_hooks):
    """SGD over ``model.parameters()`` (as the official ``build_optimizer``) running ``pre_hooks`` before each step,
    then keeping in ``received`` the gradients the step gets: {id(parameter): gradient or None}."""
    optimizer = torch.optim.SGD(model.parameters(), **optim_cfg)

    def record(opt, args, kwargs):
        opt.received = {id(p): None if p.grad is None else p.grad.clone() for group in opt.param_groups
                        for p in group['params']}

    for hook in (*pre_hooks, record):
        optimizer.register_step_pre_hook(hook)
    return optimizer


@contextlib.contextmanager
def recorded_randperm():
    """``torch.randperm`` (shuffle-BN's permutation in both codes) with its draws kept."""
    draws, randperm = [], torch.randperm

    def record(*args, **kwargs):
        draws.append(randperm(*args, **kwargs))
        return draws[-1].clone()

    with mock.patch('torch.randperm', record):
        yield draws


def official_step(official, model, optimizer, inputs, alpha, beta, seed):
    """One official iteration: ``forward_train``, then ``DistOptimizerHook.after_train_iter`` (backward, all-zero
    gradients to None, SGD step). Returns the loss, the gradients SGD received, the shuffle permutations."""
    draws = [np.array(pair) for pair in zip(alpha, beta)]  # what np.random.choice(4, 2, replace=False) returns
    with mock.patch.object(official.pinas.np.random, 'choice', side_effect=draws), recorded_randperm() as perms, \
            mock.patch.object(torch.Tensor, 'cuda', lambda self, *args, **kwargs: self):
        torch.manual_seed(seed)
        losses = model(torch.stack(inputs, dim=1), mode='train')
        loss = losses['loss'].item()
        runner = types.SimpleNamespace(outputs=losses, optimizer=optimizer, model=model, iter=0)
        official.DistOptimizerHook().after_train_iter(runner)
    return loss, optimizer.received, perms


def pinas_step(model, optimizer, inputs, alpha, beta, seed):
    """One pinas_mm step: ``loss`` (no data preprocessor), backward, SGD with ``drop_zero_gradients``."""
    paths = [str(c) for c in alpha], [str(c) for c in beta]
    with mock.patch.object(pinas_algorithm, 'sample_two_paths', return_value=paths), recorded_randperm() as perms:
        torch.manual_seed(seed)
        losses = model.loss(list(inputs), [DataSample() for _ in range(len(inputs[0]))])
        loss = losses['loss_alpha_beta'] + losses['loss_beta_alpha']  # the official order of the sum
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item(), optimizer.received, perms


def paired_state(theirs, ours):
    """{group: [(official tensor, pinas_mm tensor)]} over the official state dict as the converter maps it (its
    ``backbone.*`` copy of the student left out), each shared tensor once, live (parameters as objects)."""
    their_vars, our_vars = theirs.state_dict(keep_vars=True), ours.state_dict(keep_vars=True)
    groups, seen = {}, set()
    for our_key, their_key in supernet_to_pinas({key: key for key in their_vars}).items():
        value = their_vars[their_key]
        if id(value) not in seen:
            seen.add(id(value))
            kind = 'parameters' if isinstance(value, nn.Parameter) else 'BN statistics'
            group = {'queue': 'queue', 'queue_ptr': 'queue pointer'}.get(our_key) or (
                f"{'teacher' if our_key.startswith('encoder_k.') else 'student'} {kind}")
            groups.setdefault(group, []).append((value, our_vars.get(our_key)))
    return groups


def attention_biases(model, cls):
    """Split-attention fc1/fc2 biases: how many, zero entries, max |bias| * sqrt(fan_in) (PyTorch's default draws
    within 1 / sqrt(fan_in))."""
    convs = [conv for m in model.modules() if isinstance(m, cls) for conv in (m.fc1, m.fc2)]
    return dict(tensors=len(convs), zero_entries=sum(int((conv.bias == 0).sum()) for conv in convs),
                max_scaled=max(conv.bias.abs().max().item() * conv.weight[0].numel() ** .5 for conv in convs))


def start(official, model_cfg, pinas, name, args):
    """The official model of a start, and pinas_mm's loaded with its weights (strictly, but for pinas_mm-only state);
    pinas_mm's teacher copies the student at its next update (official init) or averages (trained-like)."""
    trained, _, seed = STARTS[name]
    torch.manual_seed(args.seed)
    theirs = official.builder.build_model(dict(model_cfg, queue_len=args.queue_len)).double().train()
    if trained:
        generator = torch.Generator().manual_seed(args.seed + seed)
        randomise_norms(theirs, generator)
        with torch.no_grad():
            for student, teacher in zip(theirs.encoder_q.parameters(), theirs.encoder_k.parameters()):
                teacher.copy_(student + .01 * torch.randn(student.shape, generator=generator, dtype=student.dtype))
            theirs.queue_ptr[0] = args.queue_len - args.batch
    missing, unexpected = pinas.load_state_dict(supernet_to_pinas(theirs.state_dict()), strict=False)
    if unexpected or set(missing) - set(PINAS_ONLY):
        raise SystemExit(f'the converted official state does not fit: missing {missing}, unexpected {unexpected}')
    pinas.encoder_k.steps.fill_(int(trained))
    return theirs


def compare_training(official, model_cfg, optim_cfg, args):
    init_default_scope('mmrazor')
    MMLogger.get_current_instance().setLevel(logging.WARNING)  # init_weights lists every parameter
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pinas', 'supernet.py')).model
    pinas = MODELS.build(dict(cfg, queue_len=args.queue_len))
    pinas.init_weights()
    pinas.double().train()
    rows, losses, init = [], [], {'pinas_mm': attention_biases(pinas.backbone, SplitAttentionConv2d)}
    for name, (_, official_rounding, seed) in STARTS.items():
        theirs = start(official, model_cfg, pinas, name, args)
        init.setdefault('official', attention_biases(theirs.encoder_q[0], official.SplitAttnConv2d))
        their_optimizer = recording_sgd(theirs, optim_cfg)  # the official hook sets all-zero gradients to None
        our_optimizer = recording_sgd(pinas, optim_cfg, drop_zero_gradients)
        pairs, m, averaged = paired_state(theirs, pinas), theirs.momentum, []

        def official_average(self, k, q, steps):  # the official rounding, as a subclass's avg_func
            averaged.append(k.copy_(k * m + q * (1. - m)))

        rounding = mock.patch.object(type(pinas.encoder_k), 'avg_func', official_average)
        for step in range(1, args.steps + 1):
            inputs = views(args, seed + step)
            rng = np.random.RandomState(args.seed + seed + step)  # two candidates a layer, as the official draws
            alpha, beta = zip(*(rng.choice(4, 2, replace=False).tolist() for _ in theirs.encoder_q[0].layer_indices))
            their_loss, their_grads, their_perms = official_step(official, theirs, their_optimizer, inputs, alpha,
                                                                 beta, args.seed + step)
            with rounding if official_rounding else contextlib.nullcontext():
                our_loss, our_grads, our_perms = pinas_step(pinas, our_optimizer, inputs, alpha, beta, args.seed + step)
            losses.append(dict(start=name, step=step, official=their_loss, pinas_mm=our_loss))
            found = {'loss': [(torch.tensor(their_loss, dtype=torch.float64),
                               torch.tensor(our_loss, dtype=torch.float64))],
                     'shuffle-BN permutations': list(itertools.zip_longest(their_perms, our_perms)),
                     'gradients SGD receives': [(their_grads.get(id(t)), our_grads.get(id(o)))
                                                for t, o in pairs['student parameters']], **pairs}
            rows += [row(name, quantity, step, found_pairs, args.tolerance) for quantity, found_pairs in found.items()]
            print(f'{name}, step {step}: loss {their_loss!r} (official), {our_loss!r} (pinas_mm); largest scaled '
                  f'difference {max(r["max_scaled_diff"] for r in rows[-len(found):]):.1e}', flush=True)
        if official_rounding and not averaged:
            raise SystemExit(f"{name}: pinas_mm's teacher no longer averages through avg_func; adapt this start")
        del theirs, their_optimizer, pairs
    return rows, losses, init


def summarise(rows):
    """The rows of one part and quantity merged over steps: counts summed, the largest differences."""
    merged = {}
    for r in rows:
        m = merged.setdefault((r['part'], r['quantity']), dict(r, steps=[], compared=0, mismatched=0, none_in_both=0))
        m['steps'].append(r['step'])
        for key in ('compared', 'mismatched', 'none_in_both'):
            m[key] += r[key]
        for key in ('max_abs_diff', 'max_scaled_diff'):
            m[key] = max(m[key], r[key])
        m['ok'] = m['ok'] and r['ok']
    return list(merged.values())


COLUMNS = ('part', 'quantity', 'steps', 'tensors compared', 'max abs diff', 'max scaled diff', 'in one code only',
           'None in both', 'within tolerance')


def table(results):
    note = (f"Official code: {OFFICIAL_URL} at {results['official']['commit']}; float64, {results['batch']} images of "
            f"{results['size']}x{results['size']}, queue {results['queue_len']}; tolerance {results['tolerance']:g} "
            f"on the scaled difference; run time {results['run_time_s']:.0f} s.")
    lines = table_head('Parity with the official Pi-NAS code', results, note, COLUMNS)
    lines += [f"| {r['part']} | {r['quantity']} | {', '.join(map(str, r['steps']))} | {r['compared']} | "
              f"{r['max_abs_diff']:.1e} | {r['max_scaled_diff']:.1e} | {r['mismatched']} | {r['none_in_both']} | "
              f"{'yes' if r['ok'] else '**no**'} |" for r in summarise(results['rows'])]
    lines += ['', '| fresh supernet | split-attention fc1/fc2 biases | zero entries | max abs bias x sqrt(fan_in) '
              "(PyTorch's default: <= 1) |", '|---|---|---|---|']
    lines += [f"| {name} | {b['tensors']} | {b['zero_entries']} | {b['max_scaled']:.3f} |"
              for name, b in results['init_rule'].items()]
    verdict = 'everything within tolerance' if results['all_ok'] else '**differences above tolerance**'
    lines += ['', f"Result: {verdict}, without exchanging alpha and beta. Command: `{results['command']}`.", '',
              "Scaled difference: max|official - pinas_mm| / max(1, max|official|) per tensor. 'in one code only': "
              "present (a gradient: not None) in one code only; 'None in both': gradients neither code has "
              '(candidates no path used, all-zero gradients).', '', results['method']]
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official', help='a checkout of github.com/Ernie1/Pi-NAS (with --official-git: where to '
                        'archive it, default /tmp/pinas_official_<commit>)')
    parser.add_argument('--official-git', help='a clone (bare or not) of it, e.g. /work/.mirror/Ernie1+Pi-NAS/repo')
    parser.add_argument('--commit', default='HEAD', help="--official-git's commit to compare with (default HEAD)")
    parser.add_argument('--batch', type=int, default=4, help='images a step (default 4)')
    parser.add_argument('--size', type=int, default=64, help='image side (default 64)')
    parser.add_argument('--steps', type=int, default=2, help='training steps from each start (default 2)')
    parser.add_argument('--queue-len', type=int, default=64, help='negatives, a multiple of --batch (default 64)')
    parser.add_argument('--random-paths', type=int, default=3, help='random paths besides all-0..all-3 (default 3)')
    parser.add_argument('--tolerance', type=float, default=1e-9, help='largest scaled difference (default 1e-9)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    parser.add_argument('--results-dir', default=RESULTS, help=f'where to write the results (default {RESULTS})')
    args = parser.parse_args()
    if not (args.official or args.official_git) or args.queue_len % args.batch:
        parser.error('give --official DIR or --official-git GITDIR, and a --queue-len that --batch divides')
    torch.set_num_threads(args.threads)
    began = time.perf_counter()
    folder, commit = official_checkout(args)
    official = load_official(folder)
    official_cfg = Config.fromfile(osp.join(folder, OFFICIAL_CONFIG))
    model_cfg, optim_cfg = official_cfg.model.to_dict(), official_cfg.optimizer.to_dict()
    check_space(model_cfg['backbone'])
    if optim_cfg.pop('type') != 'SGD':
        raise SystemExit(f'the official optimizer is not SGD: {official_cfg.optimizer}')
    results = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                   machine=machine_info(args.threads), official=dict(url=OFFICIAL_URL, commit=commit, checkout=folder,
                                                                     model=model_cfg, optimizer=optim_cfg),
                   batch=args.batch, size=args.size, queue_len=args.queue_len, tolerance=args.tolerance,
                   method='\n\n'.join(__doc__.split('\n\n')[1:4]))
    with tempfile.TemporaryDirectory() as store:
        torch.distributed.init_process_group('gloo', init_method=f'file://{store}/store', rank=0, world_size=1)
        try:
            rows = compare_backbones(official, model_cfg['backbone'], args)
            train_rows, results['losses'], results['init_rule'] = compare_training(official, model_cfg, optim_cfg,
                                                                                   args)
        finally:
            torch.distributed.destroy_process_group()
    results['rows'] = rows + train_rows
    init_ok = all(b['zero_entries'] == 0 and b['max_scaled'] <= 1 for b in results['init_rule'].values())
    results['all_ok'] = init_ok and all(r['ok'] for r in results['rows'])
    results['run_time_s'] = time.perf_counter() - began
    save_results('official_parity', results, table, args.results_dir)
    sys.exit(0 if results['all_ok'] else 1)


if __name__ == '__main__':
    main()
