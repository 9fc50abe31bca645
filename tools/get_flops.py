# Copyright (c) pinas_mm contributors. All rights reserved.
"""Parameters and MACs of a config's model, optionally with its PiNASResNeSt backbone fixed to a subnet.

mmengine's ``get_model_complexity_info`` calls its figure 'flops', but it counts one per multiply-accumulate, so it
is printed here as MACs (the unit of papers' "FLOPs" for ResNets: ResNeSt-50 5.4 G).
"""
import argparse
import copy
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    import torch.nn as nn
    from mmengine.analysis import get_model_complexity_info
    from mmengine.config import Config
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope

    from pinas_mm.apis import find_backbone_cfg
    from pinas_mm.structures import SubnetError
    from pinas_mm.utils.dict_action import DictAction
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def parse_args():
    parser = argparse.ArgumentParser(description='Count the parameters and MACs of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--subnet', help='fix the PiNASResNeSt backbone to this subnet (YAML path or digit string)')
    parser.add_argument('--shape', type=int, nargs='+', default=[224, 224], help='input size: H W, or one for both')
    parser.add_argument('--backbone-only', action='store_true', help='count the backbone alone')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    args = parser.parse_args()
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes one or two integers')
    return args


def backbone_cfg(cfg):
    """The model's backbone dict (an mmrazor algorithm's architecture's, or an mmdet/mmseg/mmpretrain model's) and
    the registry scope it is built in."""
    model = cfg.model
    scope = model.get('_scope_', cfg.get('default_scope', 'mmrazor'))
    if isinstance(model.get('architecture'), dict):
        scope = model.architecture.get('_scope_', scope)
    return find_backbone_cfg(model), scope


def measure(cfg, input_shape, backbone_only):
    """Build ``cfg.model`` (or only its backbone) and count it; returns (params, MACs, what was counted)."""
    if backbone_only:
        backbone, scope = backbone_cfg(cfg)
        model = MODELS.build(dict(backbone, _scope_=backbone.get('_scope_', scope)))
    else:
        model = MODELS.build(cfg.model)
    model = revert_sync_batchnorm(model)
    model.eval()  # not chained: some models' train() returns None
    arch = getattr(model, 'architecture', model)  # an mmrazor algorithm wraps the model
    if backbone_only:
        target, what = model, 'backbone (built alone)'
    elif type(arch).__module__.startswith('mmdet.'):  # detectors' heads need data samples (image metas)
        target = nn.Sequential(arch.backbone, arch.neck) if getattr(arch, 'neck', None) else arch.backbone
        what = 'backbone + neck (extract_feat); the detection heads are not counted'
    else:
        target, what = model, 'whole model (tensor mode)'
        if getattr(arch, 'auxiliary_head', None) is not None:
            arch.auxiliary_head = None  # training-only, as in mmseg's get_flops.py
            what += ' without the training-only auxiliary head'
    info = get_model_complexity_info(target, input_shape=input_shape, show_table=False, show_arch=False)
    return info['params'], info['flops'], what


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrazor'))
    backbone = backbone_cfg(cfg)[0]
    backbone['init_cfg'] = None  # count only: download nothing
    backbone_type = str(getattr(backbone.get('type'), '__name__', backbone.get('type')))
    is_pinas = backbone_type.endswith('PiNASResNeSt')
    if args.subnet is not None and not is_pinas:
        raise SystemExit(f'--subnet needs a PiNASResNeSt backbone, but the config\'s backbone is {backbone_type}')
    input_shape = (3, args.shape[0], args.shape[-1])
    runs = []
    if is_pinas and backbone.get('arch') is None:
        runs.append(('supernet (every candidate of every layer runs: mmrazor forward_all)', cfg))
    if args.subnet is not None:
        subnet_cfg = copy.deepcopy(cfg)
        backbone_cfg(subnet_cfg)[0]['arch'] = args.subnet
        runs.append((f'subnet {args.subnet}', subnet_cfg))
    elif not runs:
        runs.append(('model as configured', cfg))
    print(f'Config: {args.config}\nInput shape: {input_shape}')
    for name, run_cfg in runs:
        try:
            params, macs, what = measure(run_cfg, input_shape, args.backbone_only)
        except TypeError as error:  # e.g. an algorithm that trains supernets refuses a fixed backbone
            if run_cfg is cfg or args.backbone_only:
                raise
            raise SystemExit(f'{error}\nThe model cannot hold a fixed subnet; count the subnet with --backbone-only')
        print(f'{"=" * 30}\nModel: {name}\nCounted: {what}\n'
              f'Params: {params / 1e6:.3f} M ({params})\nMACs: {macs / 1e9:.3f} G ({macs})')
    print('mmengine counts one "flop" per multiply-accumulate: MACs above. Check that all ops were counted '
          '(warnings list skipped ops) before quoting the figures.')


if __name__ == '__main__':
    try:
        main()
    # a refusal (an environment or data problem the user must fix): its message, no traceback
    except (FileNotFoundError, SubnetError) as error:
        sys.exit(f'error: {error}')
