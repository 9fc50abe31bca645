# Linear probe of self-supervised weights: Pi-NAS-cls with its weights taken from the Pi-NAS supernet (trained without
# labels) and frozen, a linear classifier trained on ImageNet (mmpretrain's MoCo-v2 protocol: SGD lr 30, 100 epochs).
#   python tools/export_subnet.py configs/pinas/supernet.py work_dirs/supernet/epoch_100.pth \
#       --subnet configs/pinas/subnets/pinas-cls.yaml --out work_dirs/pinas-cls_supernet.pth
#   bash tools/dist_train.sh configs/pinas/pinas-cls_8xb32-linear-steplr-100e_in1k.py 8
_base_ = ['mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrazor.PiNASResNeSt',
        arch='{{ fileDirname }}/subnets/pinas-cls.yaml',
        out_indices=(3, ),
        frozen_stages=4,  # everything: only the linear head learns
        init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint='work_dirs/pinas-cls_supernet.pth')))

# --resume continues bitwise: a fixed seed (with mmpretrain's seed=None each run draws its own, and the sampler keeps
# the new one), the random generators saved with every checkpoint, and each image's augmentations drawn from a seed
# of (seed, epoch, index) alone, whichever data-loader worker loads it
randomness = dict(seed=0)
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='mmrazor.SeededAugmentSampler', shuffle=True),
    dataset=dict(_delete_=True, type='mmrazor.SeededAugmentDataset', dataset={{_base_.train_dataloader.dataset}}))
