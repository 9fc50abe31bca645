# Copyright (c) pinas_mm contributors. All rights reserved.
"""README command A: the whole Pi-NAS pipeline on real digits, on a CPU.

Stages, each one of this repository's tools with a shipped config, in its own folder under ``--work-dir``:

1. data: mnist_5k as a classification set, and digit canvases as COCO / ADE20K folders (cached in ``data/``);
2. supernets: Pi-NAS without labels (``supernet_mnist5k.py``), and the supervised SPOS baseline;
3. searches: Pi-NAS's with its label-free score, SPOS's with its classifier;
4. export: the Pi-NAS best, a random subnet of the Pi-NAS supernet, and the SPOS best, as backbone checkpoints;
5. transfer: Mask R-CNN and DeepLabV3 trained briefly on the canvases with each backbone;
6. summary: box / mask AP and mIoU per backbone (``summary.md``) and the supernet's loss curve (``supernet_loss.png``).

A finished stage is never run again (its results stay) unless named in ``--redo``; an interrupted training resumes.
``--quick`` shortens every schedule to a few steps (what CI runs); its figures mean nothing.
"""
import argparse
import json
import os
import os.path as osp
import random
import subprocess
import sys
import time

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPACE_LAYERS, CANDIDATES = 5, '0123'  # the scaled-down space of the *_mnist5k configs
BACKBONES = ('pinas', 'random', 'spos')
TITLES = dict(pinas='Pi-NAS search (no labels)', random='random subnet of the Pi-NAS supernet',
              spos='SPOS search (supervised baseline)')
TRANSFER = dict(mask_rcnn='configs/transfer/mask-rcnn_pinas_fpn_digit-canvases.py',
                deeplab='configs/transfer/deeplabv3_pinas-d8_digit-canvases.py')
QUICK = dict(  # a few steps of every stage
    supernet=['train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=128'],
    spos_supernet=['train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=128', 'val_dataloader.dataset.indices=64'],
    search=['train_cfg.max_epochs=1', 'train_cfg.num_candidates=3', 'train_cfg.top_k=1', 'train_cfg.num_mutation=1',
            'train_cfg.num_crossover=1', 'train_cfg.calibrate_sample_num=64', 'train_cfg.num_score_images=64'],
    mask_rcnn=['train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=8', 'val_dataloader.dataset.indices=4',
               'test_dataloader.dataset.indices=4'],
    deeplab=['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'val_dataloader.dataset.indices=4',
             'test_dataloader.dataset.indices=4'],
)


def parse_args():
    parser = argparse.ArgumentParser(description='Run the whole Pi-NAS pipeline on the bundled digits')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='one folder per stage below it')
    parser.add_argument('--data-root', default='data', help='where the prepared data is cached')
    parser.add_argument('--quick', action='store_true', help='a few steps per stage: checks the pipeline (CI)')
    parser.add_argument('--redo', nargs='+', default=[], metavar='STAGE',
                        help='run these finished stages again: supernets, searches, export, transfer')
    return parser.parse_args()


class Demo:

    def __init__(self, args):
        self.args = args
        self.work_dir = osp.abspath(args.work_dir)
        self.mnist = osp.join(args.data_root, 'mnist5k')
        self.canvases = osp.join(args.data_root, 'digit_canvases')
        self.timings = {}

    def path(self, *parts):
        return osp.join(self.work_dir, *parts)

    def run(self, *command):
        print('$', ' '.join(command), flush=True)
        subprocess.run([sys.executable, *command], cwd=REPO, check=True)

    def options(self, kind, *options):
        extra = QUICK[kind] if self.args.quick else []
        return ['--cfg-options', *options, *extra] if options or extra else []

    def stage(self, name, outputs, action):
        """Run ``action`` unless all ``outputs`` exist (a finished stage) and ``name`` is not to be redone."""
        if all(osp.exists(p) for p in outputs) and name not in self.args.redo:
            print(f'[{name}] done before: {", ".join(outputs)}', flush=True)
            return
        start = time.time()
        action()
        self.timings[name] = self.timings.get(name, 0) + time.time() - start

    def train(self, config, work_dir, kind, *options):
        """tools/train.py, resumed when an earlier run left a checkpoint."""
        resume = ['--resume'] if osp.exists(osp.join(work_dir, 'last_checkpoint')) else []
        self.run('tools/train.py', config, '--work-dir', work_dir, *resume, *self.options(kind, *options))

    @staticmethod
    def last_checkpoint(work_dir):
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            return f.read().strip()

    def main(self):
        os.makedirs(self.work_dir, exist_ok=True)
        self.run('tools/dataset_converters/prepare_mnist5k.py', self.mnist)
        self.run('tools/dataset_converters/prepare_digit_canvases.py', self.canvases)
        mnist = f'data_root={self.mnist}'
        supernets = dict(pinas=('configs/pinas/supernet_mnist5k.py', 'supernet'),
                         spos=('configs/pinas/spos_supernet_mnist5k.py', 'spos_supernet'))
        for name, (config, kind) in supernets.items():
            work_dir = self.path(f'{name}_supernet')
            self.stage('supernets', [osp.join(work_dir, 'done')], lambda: (
                self.train(config, work_dir, kind, f'train_dataloader.dataset.{mnist}',
                           *([f'val_dataloader.dataset.{mnist}'] if name == 'spos' else [])),
                open(osp.join(work_dir, 'done'), 'w').close()))
        searches = dict(pinas='configs/pinas/search_mnist5k.py', spos='configs/pinas/spos_search_mnist5k.py')
        for name, config in searches.items():
            work_dir = self.path(f'{name}_search')
            self.stage('searches', [osp.join(work_dir, 'best_fix_subnet.yaml')], lambda: self.train(
                config, work_dir, 'search', f'load_from={self.last_checkpoint(self.path(f"{name}_supernet"))}',
                f'train_cfg.dataloader.dataset.{mnist}', f'train_cfg.calibrate_dataloader.dataset.{mnist}'))
        rng = random.Random(0)
        subnets = dict(pinas=self.path('pinas_search', 'best_fix_subnet.yaml'),
                       random=''.join(rng.choice(CANDIDATES) for _ in range(SPACE_LAYERS)),
                       spos=self.path('spos_search', 'best_fix_subnet.yaml'))
        for name in BACKBONES:
            source = 'spos' if name == 'spos' else 'pinas'
            out = self.path('export', f'{name}.pth')
            self.stage('export', [out], lambda: self.run(
                'tools/export_subnet.py', supernets[source][0], self.last_checkpoint(self.path(f'{source}_supernet')),
                '--subnet', subnets[name], '--out', out))
        for name in BACKBONES:
            for task, config in TRANSFER.items():
                work_dir = self.path('transfer', f'{task}_{name}')
                self.stage('transfer', [osp.join(work_dir, 'done')], lambda: (
                    self.train(config, work_dir, task, f'model.backbone.arch={self.path("export", name + ".yaml")}',
                               f'model.backbone.init_cfg.checkpoint={self.path("export", name + ".pth")}',
                               *self.canvas_options(task)),
                    open(osp.join(work_dir, 'done'), 'w').close()))
        self.summarise()

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
                           f'Search plots: {self.path("pinas_search", "search.png")}, '
                           f'{self.path("spos_search", "search.png")}', ''])
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
