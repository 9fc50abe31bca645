# Copyright (c) pinas_mm contributors. All rights reserved.
"""Export a subnet of a trained supernet: a standalone backbone checkpoint plus the subnet YAML beside it.

    python tools/export_subnet.py configs/pinas/supernet.py work_dirs/supernet/epoch_100.pth \
        --subnet work_dirs/search/best_fix_subnet.yaml --out pinas_trans.pth

The checkpoint's keys are ``backbone.*``; load it in mmdet/mmseg/mmpretrain with
``backbone=dict(type='mmrazor.PiNASResNeSt', arch='pinas_trans.yaml',
init_cfg=dict(type='Pretrained', checkpoint='pinas_trans.pth', prefix='backbone.'))``.
"""
import argparse
import os.path as osp
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    import torch
    from mmengine.config import Config
    from mmengine.runner.checkpoint import _load_checkpoint

    from pinas_mm.apis import export_subnet, find_backbone_cfg
    from pinas_mm.fileio import CheckpointError, write_pair
    from pinas_mm.structures import SubnetError, dump_subnet
    from pinas_mm.utils.dict_action import DictAction
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def parse_args():
    parser = argparse.ArgumentParser(description='Export a subnet of a Pi-NAS supernet as a backbone checkpoint')
    parser.add_argument('config', help='the supernet config (its backbone settings define the space)')
    parser.add_argument('checkpoint', help='the trained supernet checkpoint')
    parser.add_argument('--subnet', required=True,
                        help='subnet YAML (mmrazor format, e.g. best_fix_subnet.yaml) or digits like 3333113330011021')
    parser.add_argument('--out', required=True, help='output checkpoint; the subnet YAML is written beside it')
    parser.add_argument('--prefix', help='key prefix of the supernet backbone in the checkpoint (default: found)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    args = parser.parse_args()
    if osp.splitext(args.out)[1] in ('.yaml', '.yml'):
        parser.error(f'--out is the checkpoint (e.g. {osp.splitext(args.out)[0]}.pth); the YAML is written beside it')
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    supernet = _load_checkpoint(args.checkpoint, map_location='cpu')
    backbone, checkpoint = export_subnet(find_backbone_cfg(cfg.model), supernet.get('state_dict', supernet),
                                         args.subnet, args.prefix)
    checkpoint['meta']['supernet_checkpoint'] = osp.abspath(args.checkpoint)
    yaml_file = osp.splitext(args.out)[0] + '.yaml'
    # the checkpoint and its YAML are replaced together or not at all: an interrupted re-export keeps the earlier pair
    write_pair({args.out: lambda path: torch.save(checkpoint, path),
                yaml_file: lambda path: dump_subnet(backbone.subnet, backbone.layer_names, path)})
    print(f'subnet {checkpoint["meta"]["subnet"]}: {len(checkpoint["state_dict"])} tensors, '
          f'{sum(p.numel() for p in backbone.parameters()) / 1e6:.2f} M params -> {args.out}, {yaml_file}')


if __name__ == '__main__':
    try:
        main()
    # a refusal (an environment or data problem the user must fix): its message, no traceback
    except (CheckpointError, FileNotFoundError, SubnetError) as error:
        sys.exit(f'error: {error}')
