# Pi-NAS supernet training without labels on ImageNet: the paper's recipe (ICCV 2021, Sec. 3 and 4.1), checked line by
# line and numerically (benchmarks/official_parity.py) against the official code (github.com/Ernie1/Pi-NAS:
# openselfsup/models/pinas.py, backbones/super_resnest.py, hooks/optimizer_hook.py, configs/pinas_learning.py).
# Supernet: the ResNeSt-50-shaped space, 16 layers x 4 split-attention candidates (PiNASResNeSt).
# Each step: two paths differing in every layer, 4 MoCo-v2 views, cross-path InfoNCE against an EMA teacher
# (m = 0.999) with 65,536 negatives at temperature 0.2; SGD at the official per-image rate (lr 0.03 for 8 x 24 images,
# i.e. 0.04 per 256), cosine, 100 epochs, 8 GPUs x 32 images, mixed precision.
# As the official code: every candidate's last BN starts at zero (without it the supernet collapses: each path is a
# different random function, so the cross-path positive carries no image information); Kaiming conv weights with the
# split-attention biases at PyTorch's default; a Kaiming-initialised projector; alpha's query and key first, the
# teacher moved before each key on that key's path (twice a step for the shared stem, shortcuts and projector),
# parameters only, never its BN statistics (not even at the first step); the queue takes the un-normalised mean of
# the two keys; all-zero gradients get no update (ZeroGradAsNoneHook); hue jitter 0.4.
# Where this config differs from the official one, and why:
# - 8 GPUs x 32 images and a queue of 65,536, the paper's text (official config: 8 x 24, 49,152; both divide), with
#   the learning rate scaled to keep the official per-image rate;
# - mmpretrain's transforms for the official augmentations (grayscale keeps 3 channels);
# - paths drawn from a generator seeded alike on every rank instead of numpy's global one (same paths on all ranks).
# One GPU (no shuffle-BN across ranks): set model.backbone.norm_cfg=dict(type='SplitBN', num_splits=8), see
# supernet_mnist5k.py. From the official checkpoint: tools/model_converters/pinas_official_to_mmrazor.py.
#   bash tools/dist_train.sh configs/pinas/supernet.py 8
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py',  # MoCo-v2 augmentations, ImageNet train split
    'mmpretrain::_base_/schedules/imagenet_sgd_coslr_200e.py',  # SGD lr 0.03, momentum 0.9, wd 1e-4, cosine
    '../_base_/default_runtime.py',
]

model = dict(
    type='PiNAS',
    backbone=dict(type='PiNASResNeSt', zero_init_residual=True),  # every candidate's last BN at 0, as the official
    neck=dict(type='MoCoV2Neck', in_channels=2048, hid_channels=2048, out_channels=128, with_avg_pool=True,
              init_cfg=dict(type='Kaiming', layer='Linear', mode='fan_in')),  # the official projector's init
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # mmengine's convention: 1 - m, m = 0.999
    cross_path=True,
    use_negatives=True)

# the official code's views: MoCo-v2's, with hue jitter 0.4 (mmpretrain's MoCo-v2 base has 0.1)
view_pipeline = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.4)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]
# four views per image: v1, v3 for the student (paths alpha, beta), v2, v4 for the teacher (beta, alpha)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=4, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    # mmengine tags dicts inherited through mmpretrain:: with _scope_ and would pass it on to default_collate
    collate_fn=dict(_delete_=True, type='default_collate'),
    # each image's augmentations drawn from a seed of (seed, epoch, index) alone, whichever worker loads it: a run
    # killed and resumed (--resume) draws what the uninterrupted one drew, persistent workers and all
    sampler=dict(_delete_=True, type='mmrazor.SeededAugmentSampler', shuffle=True),
    dataset=dict(_delete_=True, type='mmrazor.SeededAugmentDataset', dataset=dict(
        _scope_='mmpretrain', type='ImageNet', data_root='data/imagenet', split='train', pipeline=train_pipeline)))

# refuse, before the first step, a pipeline without 4 views or a queue that is not a multiple of the global batch;
# every epoch, log whether the supernet learns (cross-path retrieval of 256 ImageNet val images, two augmented views
# each as training pairs them; cosines; residual BN scales) and warn on a collapse
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='PiNASCheckHook'),
    dict(type='LearningMonitorHook', dataloader=dict(
        batch_size=64,
        num_workers=4,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='mmpretrain.ImageNet', split='val', pipeline=[  # data_root: the training data's
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=[1, 2], transforms=[[
                dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
                dict(type='CenterCrop', crop_size=224),
            ], view_pipeline]),
            dict(type='PackInputs'),
        ]))),
    dict(type='ZeroGradAsNoneHook'),  # the official optimizer hook: an all-zero gradient gets no decay, no momentum
]

# fp16 on GPUs (drop the type to train in fp32); lr 0.04 for 256 images is the official 0.03 for 8 x 24
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(lr=0.04))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=256)  # lr 0.04 is for 8 x 32 images; --auto-scale-lr rescales it
# each step trains two of a layer's four candidates; the others get no gradient
find_unused_parameters = True
