# Copyright (c) pinas_mm contributors. All rights reserved.
"""Evaluate a checkpoint with a config's test dataloader and evaluator (mmdet, mmseg, mmpretrain or pinas_mm)."""
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
    parser = argparse.ArgumentParser(description='Test (evaluate) a model with an mmengine Runner')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results (default: work_dirs/<config name>)')
    parser.add_argument('--out', help='dump the raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='draw every prediction on its image, as PNGs in SHOW_DIR/vis_data/vis_image '
                        "(with the config's visualizer; limit the images with --cfg-options "
                        'test_dataloader.dataset.indices=N)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_test.sh sets it)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def draw_predictions(cfg, show_dir):
    """Turn on the config's visualisation hook for every test image and save its drawings under ``show_dir``, as
    mmdet's and mmseg's ``--show-dir`` do; mmpretrain's hook names its switch ``enable``, theirs ``draw``."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise SystemExit('--show-dir needs a visualization hook in default_hooks; this config has none')
    switch = 'enable' if hook['type'].split('.')[-1] == 'VisualizationHook' else 'draw'
    hook.update({switch: True, 'interval': 1})
    cfg.visualizer.save_dir = show_dir


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    setup_launcher(cfg, args.launcher)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    require_compiled_ops_for(cfg)
    if args.show_dir:
        draw_predictions(cfg, args.show_dir)
    runner = build_runner(cfg)
    if args.out:
        runner.test_evaluator.metrics.append(
            runner.build_evaluator(dict(type='DumpResults', out_file_path=args.out)).metrics[0])
    runner.test()
    close_process_group()


if __name__ == '__main__':
    try:
        main()
    # a refusal (an environment or data problem the user must fix): its message, no traceback
    except (CheckpointError, ConfigError, DatasetError, DependencyError, FileNotFoundError, SubnetError,
            WorkDirBusyError) as error:
        sys.exit(f'error: {error}')
