# Mask R-CNN FPN 1x on COCO with the paper's supervised baseline, ResNeSt-50: the Pi-NAS space's all-1 subnet, which
# loads mmpretrain's ResNeSt-50 ImageNet weights as they are. Pi-NAS paper: 42.81 box AP / 38.14 mask AP.
_base_ = ['./mask-rcnn_pinas-trans_fpn_1x_coco.py']

model = dict(
    backbone=dict(
        arch='{{ fileDirname }}/../pinas/subnets/resnest50.yaml',
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmclassification/v0/resnest/'
                      'resnest50_imagenet_converted-1ebf0afe.pth')))
