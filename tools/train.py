# Copyright (c) pinas_mm contributors. All rights reserved.
"""Train (or search with) any config: Pi-NAS supernets, searches, and mmdet/mmseg/mmpretrain transfer configs."""
import argparse
import os
import os.path as osp
import sys

try:  # pinas_mm first: importing it checks the installed stack, before an OpenMMLab import can fail on it
    import pinas_mm  # noqa: F401
    from mmengine.config import Config

    from pinas_mm.datasets import DatasetError
    from pinas_mm.engine.runner import WorkDirBusyError, build_runner
    from pinas_mm.fileio import CheckpointError
    from pinas_mm.structures import SubnetError
    from pinas_mm.utils.check_env import DependencyError, require_compiled_ops_for
    from pinas_mm.utils.dict_action import DictAction
    from pinas_mm.utils.errors import ConfigError
    from pinas_mm.utils.launcher import close_process_group, setup_launcher
except ImportError as error:  # pinas_mm's DependencyError says what to install; any other is a bug
    if type(error).__name__ != 'DependencyError':
        raise
    sys.exit(f'error: {error}')


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model with an mmengine Runner')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or without a path from the latest one in work-dir')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision (GPU only)')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual total batch size (config auto_scale_lr)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=1 "model.backbone.arch=[1,2]"')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh and tools/slurm_train.sh set it)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg, args):
    """Apply the command-line arguments to the config; --cfg-options come last and win."""
    setup_launcher(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        # mmengine resumes from load_from when set: clear it, and keep the config's for a loop that finds nothing
        # saved to resume (a search killed before its first generation's state starts again from its supernet)
        cfg.resume, cfg.load_from, cfg.load_from_if_nothing_saved = True, None, cfg.get('load_from')
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(Config.fromfile(args.config), args)
    require_compiled_ops_for(cfg)
    build_runner(cfg).train()
    close_process_group()


if __name__ == '__main__':
    try:
        main()
    # a refusal (an environment or data problem the user must fix): its message, no traceback
    except (CheckpointError, ConfigError, DatasetError, DependencyError, FileNotFoundError, SubnetError,
            WorkDirBusyError) as error:
        sys.exit(f'error: {error}')
