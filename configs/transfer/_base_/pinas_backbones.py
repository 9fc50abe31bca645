# The searched backbones as the transfer configs insert them (model.backbone), one dict per form.
# Architectures: configs/pinas/subnets/ (digits: layer1.0 .. layer4.2). Weights: an ImageNet checkpoint of the subnet,
# either an mmpretrain classifier (configs/pinas/pinas-*_32xb64_in1k.py) or tools/export_subnet.py output; the
# 'backbone.' prefix fits both, and a checkpoint of another subnet is refused by name.
subnets = '{{ fileDirname }}/../../pinas/subnets'

# Mask R-CNN FPN: four stages out, stem and first stage frozen, SyncBN trained (the paper's detection setting)
pinas_trans_fpn = dict(
    _delete_=True,
    type='mmrazor.PiNASResNeSt',
    arch=subnets + '/pinas-trans.yaml',
    out_indices=(0, 1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    norm_eval=False,
    init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint='work_dirs/pinas-trans_32xb64_in1k/epoch_270.pth'))

# DeepLabV3: dilated, output stride 8 (the last two stages keep stride 1 and dilate by 2 and 4)
pinas_trans_d8 = dict(
    pinas_trans_fpn,
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    frozen_stages=-1)
