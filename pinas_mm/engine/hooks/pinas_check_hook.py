# Copyright (c) pinas_mm contributors. All rights reserved.
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pinas_mm.registry import HOOKS
from pinas_mm.utils.errors import ConfigError


def _num_views(dataset):
    """Views per image that the dataset's pipeline makes: MultiView's, else 1."""
    for transform in getattr(getattr(dataset, 'pipeline', None), 'transforms', []):
        if hasattr(transform, 'num_views'):
            return sum(transform.num_views)  # mmpretrain keeps one count per sub-pipeline
    return 1


@HOOKS.register_module()
class PiNASCheckHook(Hook):
    """Refuse a Pi-NAS run whose data or queue cannot work, before the first step instead of during it.

    Checks that the training pipeline makes the 4 views the algorithm needs and that the MoCo queue holds a whole
    number of global batches (the keys of all ranks are enqueued together).
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataloader = runner.train_dataloader
        views = _num_views(dataloader.dataset)
        if views != 4:
            raise ConfigError(f'PiNAS needs 4 views of every image, but the training pipeline makes {views}: use '
                              "dict(type='MultiView', num_views=4, transforms=[view_pipeline])")
        global_batch = dataloader.batch_size * runner.world_size
        if model.use_negatives and model.queue_len % global_batch:
            raise ConfigError(f'queue_len {model.queue_len} is not a multiple of the global batch size {global_batch} '
                              f'({dataloader.batch_size} per process x {runner.world_size} processes)')
