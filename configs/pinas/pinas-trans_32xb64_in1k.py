# pinas-cls_32xb64_in1k.py for Pi-NAS-trans: the ImageNet weights its COCO / ADE20K / Cityscapes transfer configs
# (configs/transfer/) start from. The paper reports no ImageNet figure for it.
_base_ = ['./pinas-cls_32xb64_in1k.py']

model = dict(backbone=dict(arch='{{ fileDirname }}/subnets/pinas-trans.yaml'))
