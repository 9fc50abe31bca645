# DeepLabV3 (output stride 8) on ADE20K 512x512, 80k iterations, with Pi-NAS-trans (ImageNet weights).
# Pi-NAS paper: 45.47 mIoU (ResNeSt-50: 45.12), SyncBN, 4 GPUs x 4 images.
#   bash tools/dist_train.sh configs/transfer/deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py 4
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_ade20k-512x512.py', './_base_/pinas_backbones.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    pretrained=None,  # the base config's ResNet-V1c weights; the backbone's init_cfg loads its own
    backbone={{_base_.pinas_trans_d8}})
