# Runtime shared by pinas_mm's configs: mmrazor's registry scope (pinas_mm, mmrazor and mmengine modules by plain
# names; other toolboxes' with their scope), mmengine's hooks, console + TensorBoard logging.
default_scope = 'mmrazor'
# mmengine's Runner that refuses a second live run in the work dir, load_from weights that are not this model's (fewer
# than load_from_min_shared=0.5 of them with the same name and shape) and --resume from a weights-only file
runner_type = 'GuardedRunner'
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# checkpoints also hold the random generators, so that --resume continues exactly as an uninterrupted run
custom_hooks = [dict(type='RNGStateHook')]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo where there is no GPU
)
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
