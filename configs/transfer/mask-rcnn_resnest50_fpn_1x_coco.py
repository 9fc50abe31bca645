# Mask R-CNN FPN 1x on COCO with the paper's supervised baseline backbone, ResNeSt-50 (mmpretrain's, ImageNet weights).
# Pi-NAS paper, Table: ResNeSt-50 42.81 box AP / 38.14 mask AP (Pi-NAS-trans: 44.07 / 39.50), SyncBN in the backbone.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNeSt',
        depth=50,
        stem_channels=64,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='https://download.openmmlab.com/mmclassification/v0/resnest/'
                      'resnest50_imagenet_converted-1ebf0afe.pth')))
