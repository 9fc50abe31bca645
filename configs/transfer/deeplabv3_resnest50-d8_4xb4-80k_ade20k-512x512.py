# DeepLabV3 (output stride 8) on ADE20K 512x512, 80k iterations, with the paper's supervised baseline backbone,
# ResNeSt-50 (mmpretrain's, ImageNet weights). Pi-NAS paper: ResNeSt-50 45.12 mIoU (Pi-NAS-trans: 45.47).
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_ade20k-512x512.py']
custom_imports = dict(imports=['pinas_mm'], allow_failed_imports=False)

model = dict(
    pretrained=None,  # the base config's ResNet-V1c weights; the backbone's init_cfg loads ResNeSt-50 instead
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNeSt',
        depth=50,
        stem_channels=64,
        strides=(1, 2, 1, 1),  # dilated: output stride 8
        dilations=(1, 1, 2, 4),
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='https://download.openmmlab.com/mmclassification/v0/resnest/'
                      'resnest50_imagenet_converted-1ebf0afe.pth')))
