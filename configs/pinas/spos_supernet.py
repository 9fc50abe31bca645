# The supervised single-path baseline on the Pi-NAS space (SPOS: one uniform path per step, cross-entropy with
# ImageNet labels), trained on the same space, images and schedule length as supernet.py so that the supernets'
# ranking quality compares like for like. 8 GPUs x 32 images, SGD lr 0.1 per 256, cosine, 100 epochs.
#   bash tools/dist_train.sh configs/pinas/spos_supernet.py 8
# MixPath baseline: --cfg-options model.architecture.backbone.max_paths=2
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',  # RandomResizedCrop 224 + flip; val: resize 256, crop 224
    'mmpretrain::_base_/schedules/imagenet_bs256.py',  # SGD lr 0.1, momentum 0.9, wd 1e-4, 100 epochs
    '../_base_/default_runtime.py',
]

# the dataset base's normalisation (ImageNet mean/std, RGB), for the algorithm that the runner hands it to
data_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor')
model = dict(
    type='SPOS',  # mmrazor's: samples a path with the NasMutator at every training step
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(_scope_='mmrazor', type='PiNASResNeSt', out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048, topk=(1, 5),
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    mutator=dict(type='NasMutator'))

# each image's augmentations drawn from a seed of (seed, epoch, index) alone, whichever worker loads it: a run killed
# and resumed (--resume) draws what the uninterrupted one drew, persistent workers and all
train_dataloader = dict(
    sampler=dict(_delete_=True, type='mmrazor.SeededAugmentSampler', shuffle=True),
    dataset=dict(_delete_=True, type='mmrazor.SeededAugmentDataset', dataset={{_base_.train_dataloader.dataset}}))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)
# validation scores whichever path was sampled last; architectures are compared by the search, after BN recalibration
train_cfg = dict(val_interval=10)
find_unused_parameters = True
