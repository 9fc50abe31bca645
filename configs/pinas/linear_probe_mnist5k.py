# The scaled-down twin of linear_probe.py for a 2-core CPU: a linear classifier trained with the labels of the 4,000
# training digits on the frozen Pi-NAS twin supernet (supernet_mnist5k.py), over a random path at every step, the
# supernet's BN in train mode on 8 slices of 8 images as it trained (SplitBN). SGD without weight decay, as the
# official probe, for 10 epochs with steps at 6 and 8, at lr 0.3 instead of the official 30 (chosen on the probe's
# cross-entropy: after one epoch on the untrained twin 2.8 at lr 0.3, 30 at lr 3, 297 at lr 30, for a top-1 of
# 78.6 / 77.1 / 78.1 % on the plain digits; 30 suits the larger ImageNet features).
#   python tools/train.py configs/pinas/linear_probe_mnist5k.py
_base_ = ['./spos_supernet_mnist5k.py']

supernet_checkpoint = 'work_dirs/supernet_mnist5k/epoch_10.pth'  # tools/train.py configs/pinas/supernet_mnist5k.py
model = dict(
    architecture=dict(
        backbone=dict(
            norm_cfg=dict(type='SplitBN', num_splits=8),  # the supernet's own normalisation
            frozen_stages=4,
            train_frozen_norm=True,
            init_cfg=dict(type='Pretrained', checkpoint=supernet_checkpoint, prefix='backbone.'))))

optim_wrapper = dict(optimizer=dict(lr=0.3, weight_decay=0.))
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=True, milestones=[6, 8], gamma=0.1)
train_cfg = dict(max_epochs=10, val_interval=5)
