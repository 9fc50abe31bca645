# Mask R-CNN FPN 1x on COCO with Pi-NAS-trans, the architecture Pi-NAS found without labels (ImageNet weights).
# Pi-NAS paper: 44.07 box AP / 39.50 mask AP (ResNeSt-50: 42.81 / 38.14), SyncBN in the backbone, 8 GPUs x 2 images.
#   bash tools/dist_train.sh configs/transfer/mask-rcnn_pinas-trans_fpn_1x_coco.py 8
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', './_base_/pinas_backbones.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(backbone={{_base_.pinas_trans_fpn}})
