# Copyright (c) pinas_mm contributors. All rights reserved.
from contextlib import contextmanager

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pinas_mm.evaluation.learning import COLLAPSE_COSINE, learning_figures
from pinas_mm.models.algorithms import PiNAS
from pinas_mm.models.task_modules.scores.base import views_of
from pinas_mm.models.utils import tracked_bns
from pinas_mm.registry import HOOKS
from pinas_mm.utils.errors import ConfigError
from pinas_mm.utils.random_state import preserved_random_state
from ..runner.utils import load_fixed_batches


@contextmanager
def untracked_bn_statistics(model):
    """Within the block, the BN layers of ``model`` keep no running statistics: in train mode they normalise with
    the batch's statistics all the same (the same figures, to the bit), without computing statistics that the
    measurement restores anyway (SplitBN's whole-batch ``var_mean``: on the CPU twin a measurement takes 3.5 s instead
    of 5.1 s, one thread); in eval mode they use their running statistics as before. On exit they keep them again."""
    bns = tracked_bns([model])
    for bn in bns:
        bn.track_running_stats = False
    try:
        yield
    finally:
        for bn in bns:
            bn.track_running_stats = True


@HOOKS.register_module()
class LearningMonitorHook(Hook):
    """Make a Pi-NAS supernet's learning visible while it trains, and catch a collapse.

    Before the first epoch (the untrained floor) and every ``interval`` epochs, fixed held-out images, normalised by
    the model's data preprocessor as in training, are embedded through fixed pairs of paths, and
    :func:`pinas_mm.evaluation.learning.learning_figures` (cross-path retrieval top-1 against its chance level, mean
    cosine between different images, how far the paths have grown apart, and, where the images have labels, kNN
    top-1 of a path's backbone features) go to the log and to the visualizer's backends (TensorBoard) as
    ``monitor/<figure>``. A mean cosine between different images above 0.95 logs a warning with the likely causes.

    The measurement leaves the run as it found it: BN running statistics and the global random generators are
    restored, so a resumed run trains exactly as an uninterrupted one. Every rank measures alike (no collective).

    A dataloader whose dataset has no ``data_root`` reads the training dataset's, so that a run pointed at other data
    (``--cfg-options train_dataloader.dataset.dataset.data_root=...``, the dataset inside
    ``SeededAugmentDataset``) is measured on that data's held-out split.

    Args:
        dataloader (dict): Held-out images, labelled for kNN top-1: best as three views (``MultiView`` with
            ``num_views=[1, 2]``: the plain image, and two augmented views as training pairs them; the augmentations
            are drawn once, from ``seed``), or only the plain image, which then serves as both views.
        num_images (int): Held-out images, a fixed seeded subset. Default: 256.
        bank_dataloader (dict, optional): Labelled training images, the kNN bank; None: no kNN. Default: None.
        num_bank_images (int): Bank images, a fixed seeded subset. Default: 1000.
        path_pairs (int): Pairs of paths the figures average over. Default: 4.
        interval (int): Epochs between measurements. Default: 1.
        seed (int): Seed of the image subsets and of the paths. Default: 0.
    """
    priority = 'LOW'

    def __init__(self, dataloader, num_images=256, bank_dataloader=None, num_bank_images=1000, path_pairs=4,
                 interval=1, seed=0):
        self.dataloader = dataloader
        self.num_images = num_images
        self.bank_dataloader = bank_dataloader
        self.num_bank_images = num_bank_images
        self.path_pairs = path_pairs
        self.interval = interval
        self.seed = seed
        self.history = {}  # epoch: figures

    @staticmethod
    def _model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not isinstance(model, PiNAS):
            raise TypeError(f'LearningMonitorHook monitors a PiNAS supernet, got {type(model).__name__}')
        return model

    def _load(self, model, dataloader, num_images):
        """Batches (lists of views) and labels (None without) of a fixed subset, preprocessed as in training."""
        batches = load_fixed_batches(dataloader, num_images, self.seed, model.data_preprocessor)
        samples = [sample for batch in batches for sample in batch['data_samples'] or []]
        labels = torch.cat([s.gt_label for s in samples]) if samples and all('gt_label' in s for s in samples) \
            else None
        return [views_of(batch, 1) if isinstance(batch['inputs'], torch.Tensor) else batch['inputs']
                for batch in batches], labels

    def load_images(self, model):
        """Load the held-out (and bank) images once, leaving the global random generators as they were."""
        with preserved_random_state():
            self.images, self.labels = self._load(model, self.dataloader, self.num_images)
            self.bank, self.bank_labels = (None, None) if self.bank_dataloader is None else \
                self._load(model, self.bank_dataloader, self.num_bank_images)
        if self.bank is not None and (self.labels is None or self.bank_labels is None):
            raise ConfigError('LearningMonitorHook: kNN top-1 needs labelled held-out and bank images; load them '
                              'with labels (with_label=True) or leave out bank_dataloader')

    def measure(self, model):
        """:func:`learning_figures` of ``model`` on the loaded images, leaving the random generators as they were."""
        with preserved_random_state(), untracked_bn_statistics(model):
            return learning_figures(model, self.images, self.path_pairs, self.seed, self.labels, self.bank,
                                    self.bank_labels)

    def before_train(self, runner):
        model = self._model(runner)
        dataset = runner.cfg.get('train_dataloader', {}).get('dataset', {})
        data_root = dataset.get('dataset', dataset).get('data_root')  # inside a dataset wrapper if any
        for name in ('dataloader', 'bank_dataloader'):
            dataloader = getattr(self, name)
            if dataloader is not None and 'data_root' not in dataloader['dataset'] and data_root is not None:
                setattr(self, name, dict(dataloader, dataset=dict(dataloader['dataset'], data_root=data_root)))
        self.load_images(model)
        if runner.epoch == 0:
            self._measure(runner, model, 0)

    def after_train_epoch(self, runner):
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self._measure(runner, self._model(runner), runner.epoch + 1)

    def _measure(self, runner, model, epoch):
        figures = self.measure(model)
        chance = 1 / sum(len(batch[0]) for batch in self.images)
        runner.logger.info(
            f'Learning monitor, epoch {epoch}: cross-path retrieval top-1 {figures["cross_view_retrieval_top1"]:.3f} '
            f'of augmented views, {figures["cross_path_retrieval_top1"]:.3f} of plain images (chance {chance:.3f}), '
            f'cosine of positive pairs {figures["cos_positive_pair"]:.3f}, between images '
            f'{figures["cos_between_images"]:.3f}, between paths '
            f'{figures["cos_between_paths"]:.3f}, residual BN scale {figures["residual_bn_scale"]:.3f}'
            + (f', kNN top-1 {figures["knn_top1"]:.1f} %' if 'knn_top1' in figures else ''))
        runner.visualizer.add_scalars({f'monitor/{name}': value for name, value in figures.items()},
                                      step=epoch)
        self.history[epoch] = figures  # read by tests
        if epoch > 0 and figures['cos_between_images'] > COLLAPSE_COSINE:
            causes = ['training without negatives (use_negatives=False): the cosine loss has no predictor to stop a '
                      'collapse'] if not model.use_negatives else []
            causes += ['candidates whose last BN is not zero-initialised (backbone zero_init_residual=True)',
                       'BN statistics shared between queries and keys on one process (backbone '
                       'norm_cfg=dict(type="SplitBN", num_splits=8))',
                       'a learning rate or teacher momentum far from the recipe',
                       'inputs not normalised as the data preprocessor does']
            runner.logger.warning(
                f'the supernet is collapsing: embeddings of different images have mean cosine '
                f'{figures["cos_between_images"]:.3f} (> {COLLAPSE_COSINE}). Likely causes: ' + '; '.join(causes))
