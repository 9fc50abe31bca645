# Pi-NAS supernet training without labels on ImageNet: the paper's recipe (ICCV 2021, Sec. 3 and 4.1).
# Supernet: the ResNeSt-50-shaped space, 16 layers x 4 split-attention candidates (PiNASResNeSt).
# Each step: two paths differing in every layer, 4 MoCo-v2 views, cross-path InfoNCE against an EMA teacher
# (m = 0.999) with 65,536 negatives at temperature 0.2; SGD lr 0.03 per 256 images, cosine, 100 epochs,
# 8 GPUs x 32 images, mixed precision.
#   bash tools/dist_train.sh configs/pinas/supernet.py 8
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py',  # MoCo-v2 augmentations, ImageNet train split
    'mmpretrain::_base_/schedules/imagenet_sgd_coslr_200e.py',  # SGD lr 0.03, momentum 0.9, wd 1e-4, cosine
    '../_base_/default_runtime.py',
]

model = dict(
    type='PiNAS',
    backbone=dict(type='PiNASResNeSt', zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=2048, hid_channels=2048, out_channels=128, with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    queue_len=65536,
    feat_dim=128,
    momentum=0.001,  # mmengine's convention: 1 - m, m = 0.999
    cross_path=True,
    use_negatives=True)

# four views per image: v1, v3 for the student (paths alpha, beta), v2, v4 for the teacher (beta, alpha)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=4, transforms=[{{_base_.view_pipeline}}]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    # mmengine tags dicts inherited through mmpretrain:: with _scope_ and would pass it on to default_collate
    collate_fn=dict(_delete_=True, type='default_collate'),
    dataset=dict(pipeline=train_pipeline))

# refuse, before the first step, a pipeline without 4 views or a queue that is not a multiple of the global batch
custom_hooks = [dict(type='RNGStateHook'), dict(type='PiNASCheckHook')]

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')  # fp16 on GPUs; drop it to train in fp32
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=256)  # lr 0.03 is for 8 x 32 images; --auto-scale-lr rescales it
# each step trains two of a layer's four candidates; the others get no gradient
find_unused_parameters = True
