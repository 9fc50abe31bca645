# The CPU twin of mask-rcnn_pinas-trans_fpn_1x_coco.py (the bundled demo, README command A): Mask R-CNN FPN with a
# subnet of the scaled-down space (5 layers, stage widths / 4, as configs/pinas/*_mnist5k.py) on the digit canvases,
# 128x128 images of 2-4 mnist_5k digits of 20-40 px each, 10 classes, written as COCO by
#   python tools/dataset_converters/prepare_digit_canvases.py data/digit_canvases
# 400 train canvases, 4 per step, 3 epochs, then CocoMetric (box and mask AP) on the 100 val canvases.
#   python tools/train.py configs/transfer/mask-rcnn_pinas_fpn_digit-canvases.py
# starts from the Pi-NAS subnet that README command A (tools/run_demo.py) found and exported; another: --cfg-options
#   model.backbone.arch=<its .yaml> model.backbone.init_cfg.checkpoint=<its .pth>   (tools/export_subnet.py's pair)
# On 2 CPU cores: about 3.5 minutes; 39.8 box AP / 21.5 mask AP with the Pi-NAS subnet (20303) of README command A's
# run of 2026-12-01.
_base_ = ['./mask-rcnn_pinas-trans_fpn_1x_coco.py']

# RoIAlign dominates a step on CPU and costs per channel and per RoI: 64 FPN channels instead of 256 (box head FCs
# 256 instead of 1024) and 128 sampled RoIs per image instead of 512 (2-4 digits a canvas leave enough positives).
# A step of 4 images takes 0.44 s; 1.7 s at 256 channels, 0.83 s at 512 RoIs.
fpn_channels = 64
model = dict(
    backbone=dict(
        arch='work_dirs/demo/export/pinas.yaml',  # or a format string: '31203' is layer1.0 .. layer4.0
        stage_blocks=(1, 1, 2, 1),
        stem_channels=16,
        base_channels=16,  # stage outputs 64, 128, 256, 512
        # the supernet's weights come from a few epochs on 32x32 single digits: all of the backbone adapts
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),  # one CPU process
        init_cfg=dict(checkpoint='work_dirs/demo/export/pinas.pth')),  # written by tools/export_subnet.py
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=fpn_channels),
    rpn_head=dict(in_channels=fpn_channels, feat_channels=fpn_channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=fpn_channels),
        bbox_head=dict(in_channels=fpn_channels, fc_out_channels=256, num_classes=10),
        mask_roi_extractor=dict(out_channels=fpn_channels),
        mask_head=dict(in_channels=fpn_channels, conv_out_channels=fpn_channels, num_classes=10)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=128))))

data_root = 'data/digit_canvases/coco/'
metainfo = dict(classes=tuple('0123456789'))
# the canvases are 128x128 already; no flip, a mirrored digit is no digit
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

# the stock lr, 0.02, though for 16 images a step: 3 epochs need it; the warm-up is one epoch (100 steps), the last
# epoch at lr / 10 (3 epochs, not 4, keep README command A under 30 minutes)
epochs = 3
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=epochs, milestones=[epochs - 1], gamma=0.1),
]
train_cfg = dict(max_epochs=epochs, val_interval=epochs)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=epochs))
