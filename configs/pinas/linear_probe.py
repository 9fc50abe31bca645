# The official Pi-NAS search's scorer: a linear classifier trained with ImageNet labels on the frozen Pi-NAS supernet
# (trained without labels), over a random path at every step, the supernet's BN in train mode
# (official configs/pinas_linear_training.py: SuperClassification, SGD lr 30, no weight decay, steps at 60 and 80,
# 100 epochs, 8 GPUs x 32 images, fp16). search_linear_probe.py then scores each subnet by this classifier's top-1 after
# recalibrating the subnet's BN statistics, as the official search does.
#   bash tools/dist_train.sh configs/pinas/linear_probe.py 8
# From the official linear classifier instead: tools/model_converters/pinas_official_to_mmrazor.py.
_base_ = ['./spos_supernet.py']  # SPOS samples one random path per step, over an mmpretrain classifier

supernet_checkpoint = 'work_dirs/supernet/epoch_100.pth'  # tools/train.py configs/pinas/supernet.py
model = dict(
    architecture=dict(
        backbone=dict(
            frozen_stages=4,  # stem and every layer: only the classifier learns
            train_frozen_norm=True,  # the official probe keeps the frozen supernet's BN in train mode
            init_cfg=dict(type='Pretrained', checkpoint=supernet_checkpoint, prefix='backbone.')),  # the student
        head=dict(topk=(1, ))))  # mmpretrain's LinearClsHead: normal init, std 0.01, as the official ClsHead

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(type='SGD', lr=30., momentum=0.9, weight_decay=0.))
param_scheduler = dict(_delete_=True, type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)
train_cfg = dict(max_epochs=100, val_interval=10)
val_evaluator = dict(topk=(1, ))
