# Copyright (c) pinas_mm contributors. All rights reserved.
"""README command A: the whole Pi-NAS pipeline on real digits, on a CPU.

Stages, each one of this repository's tools with a shipped config, in its own folder under ``--work-dir``:

1. data: mnist_5k as a classification set, and digit canvases as COCO / ADE20K folders (cached in ``data/``);
2. supernets: Pi-NAS without labels (``supernet_mnist5k.py``), and the supervised SPOS baseline;
3. searches: Pi-NAS's with its label-free score, SPOS's with its classifier;
4. export: the Pi-NAS best, a random subnet of the Pi-NAS supernet, and the SPOS best, as backbone checkpoints;
5. transfer: Mask R-CNN and DeepLabV3 trained briefly on the canvases with each backbone;
6. predictions: a few val canvases drawn with the Pi-NAS backbone's detections and segmentation (mmdet's and mmseg's
   visualisers, ``tools/test.py --show-dir``);
7. summary: box / mask AP and mIoU per backbone (``summary.md``, printed too) and the supernets' loss curves
   (``supernet_loss.png``); each search drew its progress and Pareto front (``*_search/search.png``).

A finished stage is never run again (its results stay) unless named in ``--redo``, which also reruns the stages after
it. An interrupted training is continued with ``--resume``; without it the run stops rather than start it over.
``--quick`` shortens every schedule to a few steps (what CI runs); its figures mean nothing.
"""
import argparse
import json
import os
import os.path as osp
import random
import runpy
import subprocess
import sys
import time
from collections import namedtuple

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPACE_LAYERS, CANDIDATES = 5, '0123'  # the scaled-down space of the *_mnist5k configs
BACKBONES = ('pinas', 'random', 'spos')
TITLES = dict(pinas='Pi-NAS search (no labels)', random='random subnet of the Pi-NAS supernet',
              spos='SPOS search (supervised baseline)')
TASK_TITLES = dict(mask_rcnn='Mask R-CNN detections (class: score)',
                   deeplab='DeepLabV3 segmentation (the background is ignored in training, as ADE20K\'s "other" is, '
                           'so it gets some digit\'s colour; only digit pixels count for mIoU)')
SUPERNETS = dict(pinas=('configs/pinas/supernet_mnist5k.py', 'supernet'),
                 spos=('configs/pinas/spos_supernet_mnist5k.py', 'spos_supernet'))
SEARCHES = dict(pinas='configs/pinas/search_mnist5k.py', spos='configs/pinas/spos_search_mnist5k.py')
TRANSFER = dict(mask_rcnn='configs/transfer/mask-rcnn_pinas_fpn_digit-canvases.py',
                deeplab='configs/transfer/deeplabv3_pinas-d8_digit-canvases.py')
STAGES = ('supernets', 'searches', 'export', 'transfer', 'predictions')
NUM_DRAWN = 4  # val canvases drawn per task
QUICK = dict(  # a few steps of every stage, on a few images
    supernet=['train_cfg.max_epochs=1', 'train_dataloader.dataset.dataset.indices=128', 'custom_hooks.2.num_images=32',
              'custom_hooks.2.num_bank_images=64', 'custom_hooks.2.path_pairs=1'],  # the learning monitor's
    spos_supernet=['train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=128',
                   'val_dataloader.dataset.indices=64'],
    search=['train_cfg.max_epochs=1', 'train_cfg.num_candidates=3', 'train_cfg.top_k=1', 'train_cfg.num_mutation=1',
            'train_cfg.num_crossover=1', 'train_cfg.calibrate_sample_num=32', 'train_cfg.num_score_images=32'],
    mask_rcnn=['train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=4', 'val_dataloader.dataset.indices=4',
               'test_dataloader.dataset.indices=4'],
    deeplab=['train_cfg.max_iters=1', 'train_cfg.val_interval=1', 'val_dataloader.dataset.indices=4',
             'test_dataloader.dataset.indices=4'],
)


def parse_args():
    parser = argparse.ArgumentParser(description='Run the whole Pi-NAS pipeline on the bundled digits')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='one folder per stage below it')
    parser.add_argument('--data-root', default='data', help='where the prepared data is cached')
    parser.add_argument('--quick', action='store_true', help='a few steps per stage: checks the pipeline (CI)')
    parser.add_argument('--resume', action='store_true', help='continue the trainings an earlier run left unfinished')
    parser.add_argument('--redo', nargs='+', default=[], metavar='STAGE', choices=STAGES,
                        help=f'run these finished stages, and those after them, again: {", ".join(STAGES)}')
    return parser.parse_args()


# One unit of work: ``outputs`` all exist once it has finished; ``resumable`` exists once it has saved some progress.
Job = namedtuple('Job', 'stage name outputs action resumable')


class Demo:

    def __init__(self, args):
        self.args = args
        self.work_dir = osp.abspath(args.work_dir)
        self.mnist = osp.join(osp.abspath(args.data_root), 'mnist5k')
        self.canvases = osp.join(osp.abspath(args.data_root), 'digit_canvases')
        first_redone = min((STAGES.index(stage) for stage in args.redo), default=len(STAGES))
        self.redo = set(STAGES[first_redone:])  # later stages consume a redone stage's results
        self.timings = {}
        self.start = time.time()

    def path(self, *parts):
        return osp.join(self.work_dir, *parts)

    def run(self, *command):
        print('$', ' '.join(command), flush=True)
        subprocess.run([sys.executable, *command], cwd=REPO, check=True)

    @staticmethod
    def run_here(*command):
        """A tool run in this process as ``python`` runs it, for the short ones (the data checks of every run, the
        exports), which a process of their own would spend mostly on starting up. Fails as ``run`` does."""
        print('$', ' '.join(command), flush=True)
        argv, cwd = sys.argv, os.getcwd()
        sys.argv = list(command)
        os.chdir(REPO)  # where `run` starts its processes
        try:
            runpy.run_path(osp.join(REPO, command[0]), run_name='__main__')
        except SystemExit as error:
            if error.code not in (None, 0):
                if isinstance(error.code, str):  # the tool's message, as the interpreter would print it
                    print(error.code, file=sys.stderr)
                raise subprocess.CalledProcessError(error.code if isinstance(error.code, int) else 1, command) \
                    from None
        finally:
            sys.argv = argv
            os.chdir(cwd)

    def options(self, kind, *options):
        extra = QUICK[kind] if self.args.quick else []
        return ['--cfg-options', *options, *extra] if options or extra else []

    def train(self, config, work_dir, kind, *options, resume=False):
        self.run('tools/train.py', config, '--work-dir', work_dir, *(['--resume'] if resume else []),
                 *self.options(kind, *options))

    def training(self, stage, name, config, work_dir, kind, *options):
        """A job that trains ``config`` in ``work_dir`` (continued from its last checkpoint with ``--resume``) and then
        leaves a ``done`` file: mmengine writes no end-of-training marker."""
        marker = osp.join(work_dir, 'done')

        def action(resume):
            self.train(config, work_dir, kind, *options, resume=resume)
            open(marker, 'w').close()

        return Job(stage, name, [marker], action, osp.join(work_dir, 'last_checkpoint'))

    @staticmethod
    def last_checkpoint(work_dir):
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip()

    def jobs(self):
        mnist = f'data_root={self.mnist}'
        for name, (config, kind) in SUPERNETS.items():
            yield self.training('supernets', name, config, self.path(f'{name}_supernet'), kind,
                                # the Pi-NAS twin's dataset inside SeededAugmentDataset
                                f'train_dataloader.dataset.{"dataset." if name == "pinas" else ""}{mnist}',
                                *([f'val_dataloader.dataset.{mnist}'] if name == 'spos' else []))
        for name, config in SEARCHES.items():
            yield self.search(name, config, f'train_cfg.dataloader.dataset.{mnist}',
                              f'train_cfg.calibrate_dataloader.dataset.{mnist}')
        rng = random.Random(0)
        subnets = dict(pinas=self.path('pinas_search', 'best_fix_subnet.yaml'),
                       random=''.join(rng.choice(CANDIDATES) for _ in range(SPACE_LAYERS)),
                       spos=self.path('spos_search', 'best_fix_subnet.yaml'))
        for name in BACKBONES:
            yield self.export(name, 'spos' if name == 'spos' else 'pinas', subnets[name])
        for name in BACKBONES:
            for task, config in TRANSFER.items():
                yield self.training('transfer', f'{task}_{name}', config, self.path('transfer', f'{task}_{name}'),
                                    task, f'model.backbone.arch={self.path("export", name + ".yaml")}',
                                    f'model.backbone.init_cfg.checkpoint={self.path("export", name + ".pth")}',
                                    *self.canvas_options(task))
        for task, config in TRANSFER.items():
            yield self.draw_predictions(task, config, 'pinas')

    def search(self, name, config, *options):
        """A search of the ``name`` supernet; resumed, it reloads the supernet it started from (its checkpoint)."""
        work_dir = self.path(f'{name}_search')

        def action(resume):
            load = [] if resume else [f'load_from={self.last_checkpoint(self.path(f"{name}_supernet"))}']
            self.train(config, work_dir, 'search', *options, *load, resume=resume)

        return Job('searches', name, [osp.join(work_dir, 'best_fix_subnet.yaml')], action,
                   osp.join(work_dir, 'search_epoch_1.pkl'))

    def export(self, name, source, subnet):
        """The ``subnet`` (a format string or a YAML) of the ``source`` supernet as a standalone backbone."""
        out = self.path('export', f'{name}.pth')
        return Job('export', name, [out], lambda resume: self.run_here(
            'tools/export_subnet.py', SUPERNETS[source][0], self.last_checkpoint(self.path(f'{source}_supernet')),
            '--subnet', subnet, '--out', out), None)

    def draw_predictions(self, task, config, name):
        """``NUM_DRAWN`` val canvases with the predictions of the ``task`` model trained on backbone ``name``."""
        out_dir = self.path('predictions', task)

        def action(resume):
            self.run('tools/test.py', config, self.last_checkpoint(self.path('transfer', f'{task}_{name}')),
                     '--work-dir', out_dir, '--show-dir', out_dir, '--cfg-options',
                     f'model.backbone.arch={self.path("export", name + ".yaml")}', 'model.backbone.init_cfg=None',
                     f'test_dataloader.dataset.indices={NUM_DRAWN}', *self.canvas_options(task))

        return Job('predictions', task, [osp.join(out_dir, 'vis_data', 'vis_image')], action, None)

    def main(self):
        os.makedirs(self.work_dir, exist_ok=True)
        try:  # written once, then checked file by file on every run
            self.run_here('tools/dataset_converters/prepare_mnist5k.py', self.mnist)
            self.run_here('tools/dataset_converters/prepare_digit_canvases.py', self.canvases)
        except subprocess.CalledProcessError:
            sys.exit('the data could not be prepared; the message above says why and how to rebuild it')
        jobs = list(self.jobs())
        for index, job in enumerate(jobs, 1):
            self.report_progress(index, len(jobs), job)
            self.do(job)
        self.summarise()

    def report_progress(self, index, total, job):
        width = 30
        filled = width * (index - 1) // total
        minutes, seconds = divmod(int(time.time() - self.start), 60)
        print(f'\n[{"#" * filled}{"." * (width - filled)}] job {index}/{total} {job.stage}: {job.name} '
              f'({minutes}:{seconds:02d} elapsed)', flush=True)

    def do(self, job):
        """Run ``job`` unless it has finished and its stage is not to be redone; refuse to silently restart one that
        was interrupted."""
        redo = job.stage in self.redo
        if all(osp.exists(p) for p in job.outputs) and not redo:
            print(f'[{job.stage}] {job.name} done before: {", ".join(job.outputs)}', flush=True)
            return
        resume = bool(job.resumable and osp.exists(job.resumable) and not redo)
        if resume and not self.args.resume:
            sys.exit(f'[{job.stage}] {job.name} was interrupted ({job.resumable} exists): run again with --resume to '
                     f'continue it, or with --redo {job.stage} to start the stage over')
        for path in job.outputs:  # a redone job counts as finished only once it finishes again
            if osp.isfile(path):
                os.remove(path)
        start = time.time()
        try:
            job.action(resume)
        except subprocess.CalledProcessError as error:
            sys.exit(f'[{job.stage}] {job.name} failed (exit code {error.returncode}; its output is above). Finished '
                     'jobs keep their results: after a fix, run again with --resume.')
        self.timings[job.stage] = self.timings.get(job.stage, 0) + time.time() - start

    def canvas_options(self, task):
        """Point a transfer config at the prepared canvases (COCO for Mask R-CNN, the ADE20K layout for DeepLab)."""
        root = osp.join(self.canvases, 'coco' if task == 'mask_rcnn' else 'ade20k') + '/'
        options = [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')]
        if task == 'mask_rcnn':
            options += [f'{split}_evaluator.ann_file={root}annotations/instances_val.json' for split in ('val', 'test')]
        return options

    def final_metrics(self, work_dir):
        """The last value of each scalar the run logged (its final evaluation among them)."""
        scalars = {}
        for path in sorted(p for p in (osp.join(work_dir, d, 'vis_data', 'scalars.json')
                                       for d in os.listdir(work_dir)) if osp.exists(p)):
            with open(path) as f:
                for line in f:
                    scalars.update(json.loads(line))
        return scalars

    def summarise(self):
        rows = ['| backbone | subnet | box AP | mask AP | mIoU |', '|---|---|---|---|---|']
        for name in BACKBONES:
            with open(self.path('export', f'{name}.yaml')) as f:
                subnet = ''.join(str(layer['chosen']) for layer in yaml.safe_load(f).values())
            detection = self.final_metrics(self.path('transfer', f'mask_rcnn_{name}'))
            segmentation = self.final_metrics(self.path('transfer', f'deeplab_{name}'))
            rows.append(f'| {TITLES[name]} | {subnet} | {detection.get("coco/bbox_mAP", float("nan")):.3f} | '
                        f'{detection.get("coco/segm_mAP", float("nan")):.3f} | '
                        f'{segmentation.get("mIoU", float("nan")):.2f} |')
        table = '\n'.join(['# Pi-NAS demo on mnist_5k digits', '',
                           'Mask R-CNN (COCO box / mask AP) and DeepLabV3 (mIoU) on digit canvases, trained briefly '
                           'with each backbone' + (' (--quick: a few steps, figures mean nothing)'
                                                   if self.args.quick else '') + '.', '', *rows, '',
                           'Stage times this run (s): ' + json.dumps({k: round(v) for k, v in self.timings.items()}),
                           '', f'Plots in {self.work_dir}:', '',
                           '- `supernet_loss.png`: training loss of both supernets;',
                           '- `pinas_search/search.png`, `spos_search/search.png`: score vs MACs of every candidate '
                           'by generation with the Pareto front, and the best score per generation;',
                           *[f'- `predictions/{task}/vis_data/vis_image/*.png`: {NUM_DRAWN} val canvases, ground truth '
                             f'and {TASK_TITLES[task]} with the Pi-NAS backbone;' for task in TRANSFER], ''])
        with open(self.path('summary.md'), 'w') as f:
            f.write(table)
        self.plot_supernet_loss()
        print(table)

    def plot_supernet_loss(self):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for name in ('pinas', 'spos'):
            work_dir = self.path(f'{name}_supernet')
            points = []
            for stamp in sorted(os.listdir(work_dir)):
                path = osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
                if osp.exists(path):
                    with open(path) as f:
                        points += [(r['step'], r['loss']) for r in map(json.loads, f) if 'loss' in r]
            ax.plot(*zip(*sorted(points)), label=TITLES[name].split(' (')[0].replace(' search', '')) if points \
                else None
        ax.set(xlabel='iteration', ylabel='training loss', title='Supernet training', yscale='log')
        ax.legend()
        fig.tight_layout()
        fig.savefig(self.path('supernet_loss.png'), dpi=100)
        plt.close(fig)


if __name__ == '__main__':
    Demo(parse_args()).main()
