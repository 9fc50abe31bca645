# One subnet of the scaled-down space of *_mnist5k.py trained stand-alone, from scratch, with the labels of the 4,000
# training digits, and validated on the 1,000 held-out ones: the ground truth that benchmarks/ranking/ ranks the
# supernets against, and how to retrain a subnet found by search_mnist5k.py on the CPU.
#   python tools/train.py configs/pinas/subnet_mnist5k.py --cfg-options model.backbone.arch=31203 randomness.seed=1
# Same data, head, optimiser and augmentation as spos_supernet_mnist5k.py; 10 epochs instead of 5, since one subnet
# gets every step.
_base_ = ['./spos_supernet_mnist5k.py']

model = dict(
    _delete_=True,
    _scope_='mmpretrain',
    type='ImageClassifier',
    backbone=dict(_scope_='mmrazor', type='PiNASResNeSt', arch='31203', out_indices=(3, ), stage_blocks=(1, 1, 2, 1),
                  stem_channels=16, base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512, topk=(1, ),
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

epochs = 10
param_scheduler = dict(T_max=epochs, end=epochs)
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(checkpoint=dict(interval=epochs))
find_unused_parameters = False
