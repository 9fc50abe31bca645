# The scaled-down twin of linear_probe.py for a 2-core CPU: a linear classifier trained with the labels of the 4,000
# training digits on the frozen Pi-NAS twin supernet (supernet_mnist5k.py), over a random path at every step, the
# supernet's BN in train mode on 8 slices of 8 images as it trained (SplitBN). SGD without weight decay, as the
# official probe, for 10 epochs with steps at 6 and 8, at lr 0.003 instead of the official 30 (which suits ImageNet
# features), chosen on the probe's own learning signal on a 10-epoch twin supernet (cluttered digits, seed 0), one
# epoch each: cross-entropy 1.60 at lr 0.003, 1.74 at 0.03, about 7 and not falling at 0.3 (held-out top-1 48.4 %,
# 40.4 %, -).
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

optim_wrapper = dict(optimizer=dict(lr=0.003, weight_decay=0.))
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=True, milestones=[6, 8], gamma=0.1)
train_cfg = dict(max_epochs=10, val_interval=5)
