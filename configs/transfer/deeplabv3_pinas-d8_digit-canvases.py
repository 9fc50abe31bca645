# The CPU twin of deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py (the bundled demo, README command A): DeepLabV3
# (output stride 8) with a subnet of the scaled-down space (5 layers, stage widths / 4, as configs/pinas/*_mnist5k.py)
# on the digit canvases, 128x128 images of 2-4 mnist_5k digits of 20-40 px each, written in ADE20K's layout by
#   python tools/dataset_converters/prepare_digit_canvases.py data/digit_canvases
# The 10 digits are the classes and the background is ignored (reduce_zero_label), as ADE20K's "other" is.
# 400 train canvases, 8 per step, 600 iterations, then IoUMetric (mIoU over the digits) on the 100 val canvases.
#   python tools/train.py configs/transfer/deeplabv3_pinas-d8_digit-canvases.py
# starts from the Pi-NAS subnet that README command A (tools/run_demo.py) found and exported; another: --cfg-options
#   model.backbone.arch=<its .yaml> model.backbone.init_cfg.checkpoint=<its .pth>   (tools/export_subnet.py's pair)
# On 2 CPU cores: about 3 minutes; 77.1 mIoU with the Pi-NAS subnet (20303) of README command A's run of 2026-12-01.
_base_ = ['./deeplabv3_pinas-trans-d8_4xb4-80k_ade20k-512x512.py']

crop_size = (128, 128)  # the whole canvas
norm_cfg = dict(type='BN', requires_grad=True)  # one CPU process
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='work_dirs/demo/export/pinas.yaml',  # or a format string: '31203' is layer1.0 .. layer4.0
        stage_blocks=(1, 1, 2, 1),
        stem_channels=16,
        base_channels=16,  # stage outputs 64, 128, 256, 512
        norm_cfg=norm_cfg,
        init_cfg=dict(checkpoint='work_dirs/demo/export/pinas.pth')),  # written by tools/export_subnet.py
    # ASPP rates scale with the image (512 -> 128 px): at 12-36 its 16x16 feature map would see only the centre tap.
    # The ignored background is 98 % of the pixels: the losses average over the digits' pixels, not over all of them
    # (which would shrink them and their gradients 45-fold).
    decode_head=dict(in_channels=512, channels=64, dilations=(1, 3, 6, 9), num_classes=10, norm_cfg=norm_cfg,
                     loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(in_channels=256, channels=32, num_classes=10, norm_cfg=norm_cfg,
                        loss_decode=dict(avg_non_ignore=True)))

dataset_type = 'BaseSegDataset'  # ADE20KDataset refuses other class names; its base class reads the same layout
data_root = 'data/digit_canvases/ade20k'
canvases = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=dict(classes=tuple('0123456789')),
    img_suffix='.jpg',
    seg_map_suffix='.png',
    reduce_zero_label=True)  # label 0 is the background: ignored; digit d + 1 becomes class d
# the canvases are 128x128 already; no flip, a mirrored digit is no digit
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # reduce_zero_label from the dataset
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(canvases, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(canvases, pipeline=test_pipeline))
test_dataloader = val_dataloader

iters = 600
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=iters, by_epoch=False)]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters))
