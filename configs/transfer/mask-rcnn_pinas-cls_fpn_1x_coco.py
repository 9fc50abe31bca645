# Mask R-CNN FPN 1x on COCO with Pi-NAS-cls, the architecture Pi-NAS found for ImageNet classification (81.6 % top-1).
# The paper reports no COCO figure for it; compare with Pi-NAS-trans (44.07 / 39.50) and ResNeSt-50 (42.81 / 38.14).
_base_ = ['./mask-rcnn_pinas-trans_fpn_1x_coco.py']

model = dict(
    backbone=dict(
        arch='{{ fileDirname }}/../pinas/subnets/pinas-cls.yaml',
        init_cfg=dict(checkpoint='work_dirs/pinas-cls_32xb64_in1k/epoch_270.pth')))
