# ImageNet training from scratch of a searched subnet: Pi-NAS-cls, with mmpretrain's ResNeSt recipe (270 epochs,
# RandAugment, mixup, label smoothing, cosine with warm-up, 32 GPUs x 64 images).
# Pi-NAS paper: 81.6 % top-1 at 5.38 G MACs, 27.1 M params (ResNeSt-50: 81.03 %).
#   bash tools/dist_train.sh configs/pinas/pinas-cls_32xb64_in1k.py 8 --auto-scale-lr   # on 8 GPUs
# Another subnet: --cfg-options model.backbone.arch=work_dirs/search/best_fix_subnet.yaml
_base_ = ['mmpretrain::resnest/resnest101_32xb64_in1k.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmrazor.PiNASResNeSt',
        arch='{{ fileDirname }}/subnets/pinas-cls.yaml',
        out_indices=(3, ),
        zero_init_residual=False))

# --resume continues bitwise: a fixed seed (with mmpretrain's seed=None each run draws its own, and the sampler keeps
# the new one), the random generators saved with every checkpoint, and each image's augmentations drawn from a seed
# of (seed, epoch, index) alone, whichever data-loader worker loads it
randomness = dict(seed=0)
custom_hooks = [dict(type='mmrazor.RNGStateHook')]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='mmrazor.SeededAugmentSampler', shuffle=True),
    dataset=dict(_delete_=True, type='mmrazor.SeededAugmentDataset', dataset={{_base_.train_dataloader.dataset}}))
