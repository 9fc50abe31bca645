# DeepLabV3 (output stride 8) on Cityscapes 512x1024 crops, 40k iterations, with Pi-NAS-trans (ImageNet weights).
# Pi-NAS paper: 80.70 mIoU, SyncBN, 4 GPUs x 2 images.
#   bash tools/dist_train.sh configs/transfer/deeplabv3_pinas-trans-d8_4xb2-40k_cityscapes-512x1024.py 4
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py', './_base_/pinas_backbones.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    pretrained=None,  # the base config's ResNet-V1c weights; the backbone's init_cfg loads its own
    backbone={{_base_.pinas_trans_d8}})
