# DeepLabV3 (output stride 8) on ADE20K 512x512, 80k iterations, with the paper's supervised baseline ResNeSt-50 (the
# space's all-1 subnet, mmpretrain's ImageNet weights). Pi-NAS paper: 45.12 mIoU (Pi-NAS-trans: 45.47).
_base_ = ['./deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='{{ fileDirname }}/../pinas/subnets/resnest50.yaml',
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmclassification/v0/resnest/'
                      'resnest50_imagenet_converted-1ebf0afe.pth')))
