# Copyright (c) pinas_mm contributors. All rights reserved.
"""Convert a checkpoint of the official Pi-NAS code (github.com/Ernie1/Pi-NAS) into one that pinas_mm loads.

    python tools/model_converters/pinas_official_to_mmrazor.py epoch_100.pth work_dirs/pinas_official.pth

The format is read off the keys (``pinas_mm.apis.official_checkpoint``):

- the supernet of the learning phase -> a Pi-NAS checkpoint of ``configs/pinas/supernet.py`` (student, teacher,
  queue): search it (``load_from``), export subnets from it, or train on from its weights;
- the linear classifier on the supernet -> the linear probe of ``configs/pinas/linear_probe.py``, which
  ``configs/pinas/search_linear_probe.py`` scores subnets with, as the official search;
- a retrained subnet (``PiNAS_cls.pth.tar``), or the backbone of an official segmentation model -> an mmpretrain
  classifier of ``configs/pinas/pinas-cls_32xb64_in1k.py`` (or its backbone alone), with the subnet's YAML beside it,
  which the transfer configs load as ``init_cfg=dict(type='Pretrained', prefix='backbone.')``.

The result is checked against the model that ``--config`` builds: the same keys and shapes, or it is refused.
"""
import argparse
import os
import os.path as osp
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import _load_checkpoint

    from pinas_mm.apis.official_checkpoint import (OfficialCheckpointError, check_fits, detect_format, infer_subnet,
                                                   linear_to_probe, subnet_to_classifier, supernet_to_pinas)
    from pinas_mm.fileio import CheckpointError, write_pair
    from pinas_mm.models import PiNASResNeSt
    from pinas_mm.registry import MODELS
    from pinas_mm.structures import SubnetError, dump_subnet, format_subnet, parse_subnet
    from pinas_mm.utils.dict_action import DictAction
    from pinas_mm.version import __version__
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')

CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'configs', 'pinas')
DEFAULT_CONFIGS = {'supernet': 'supernet.py', 'linear': 'linear_probe.py', 'subnet': 'pinas-cls_32xb64_in1k.py'}
# state a pinas_mm model keeps that the official checkpoint has no counterpart of, taken from the freshly built model
PINAS_ONLY = ('num_enqueued', '_extra_state', 'encoder_k.steps')


def parse_args():
    parser = argparse.ArgumentParser(description='Convert an official Pi-NAS checkpoint for pinas_mm')
    parser.add_argument('src', help='the official checkpoint (supernet, linear classifier or retrained subnet)')
    parser.add_argument('dst', help='the converted checkpoint')
    parser.add_argument('--config', help='the pinas_mm config whose model the result must fit (default: '
                        + ', '.join(f'{name}: configs/pinas/{file}' for name, file in DEFAULT_CONFIGS.items()) + ')')
    parser.add_argument('--subnet', help='retrained subnet only: the subnet it must be (digits or YAML); by default '
                        'read off its weights')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings of --config')
    return parser.parse_args()


def build_model(config, cfg_options):
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    model_cfg = cfg.model
    if model_cfg.get('data_preprocessor') is None and cfg.get('data_preprocessor') is not None:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    for backbone in (model_cfg.get('backbone'), model_cfg.get('architecture', {}).get('backbone')):
        if isinstance(backbone, dict):
            backbone.pop('init_cfg', None)  # only the names and shapes are needed, not the weights it would load
    return MODELS.build(model_cfg)


def convert_supernet(state_dict, model):
    converted = supernet_to_pinas(state_dict)
    expected = model.state_dict()
    for key in PINAS_ONLY:
        if key in expected and key not in converted:
            converted[key] = expected[key]
    if 'encoder_k.steps' in converted:  # the teacher has been averaged: the next update must not copy the student
        converted['encoder_k.steps'] = torch.ones_like(converted['encoder_k.steps'])
    if 'num_enqueued' in converted:  # a trained official queue is full
        converted['num_enqueued'] = torch.tensor(model.queue_len, dtype=converted['num_enqueued'].dtype)
    return converted, expected, {}


def convert_subnet(state_dict, args):
    converted = subnet_to_classifier(state_dict)
    backbone_weights = {key[len('backbone.'):]: value for key, value in converted.items()
                        if key.startswith('backbone.')}
    supernet = PiNASResNeSt()  # the paper's space: the official code has no other
    subnet = infer_subnet(backbone_weights, supernet)
    if args.subnet is not None:
        asked = parse_subnet(args.subnet, supernet.layer_names, list(supernet.candidate_settings))
        if asked != subnet:
            raise OfficialCheckpointError(f'--subnet {format_subnet(asked)}, but the weights are of subnet '
                                          f'{format_subnet(subnet)}')
    options = dict(args.cfg_options or {}, **{'model.backbone.arch': format_subnet(subnet)})
    model = build_model(args.config, options)
    expected = model.state_dict()
    if not any(key.startswith('head.') for key in converted):  # a backbone without its classifier
        expected = {key: value for key, value in expected.items() if key.startswith('backbone.')}
    return converted, expected, dict(subnet=format_subnet(subnet), layers=list(supernet.layer_names))


def main():
    args = parse_args()
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    checkpoint = _load_checkpoint(args.src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else checkpoint
    official_format, state_dict = detect_format(state_dict)
    args.config = args.config or osp.join(CONFIGS, DEFAULT_CONFIGS[official_format])
    if official_format == 'subnet':
        converted, expected, meta = convert_subnet(state_dict, args)
    else:
        model = build_model(args.config, args.cfg_options)
        if official_format == 'supernet':
            converted, expected, meta = convert_supernet(state_dict, model)
        else:
            converted, expected, meta = linear_to_probe(state_dict), model.state_dict(), {}
    check_fits(converted, expected, f'{args.src} ({official_format})')
    official_meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
    meta.update({key: official_meta[key] for key in ('epoch', 'iter') if key in official_meta},
                converted_from=osp.abspath(args.src), official_format=official_format,
                config=osp.abspath(args.config), pinas_mm_version=__version__)
    output = dict(meta=meta, state_dict={key: value.detach().clone() for key, value in converted.items()})
    writers = {args.dst: lambda path: torch.save(output, path)}  # never a half-written checkpoint
    if official_format == 'subnet':  # its YAML beside it, as tools/export_subnet.py writes: the two replaced together
        writers[osp.splitext(args.dst)[0] + '.yaml'] = lambda path: dump_subnet(list(meta['subnet']), meta['layers'],
                                                                              path)
    write_pair(writers)
    print(f'{official_format} checkpoint {args.src}: {len(converted)} tensors mapped onto the model of '
          f'{osp.relpath(args.config)}' + (f' (subnet {meta["subnet"]})' if 'subnet' in meta else '')
          + f' -> {args.dst}')


if __name__ == '__main__':
    try:
        main()
    # a refusal (an environment or data problem the user must fix): its message, no traceback
    except (CheckpointError, FileNotFoundError, OfficialCheckpointError, SubnetError) as error:
        sys.exit(f'error: {error}')
