# Evolutionary search of the Pi-NAS supernet scored as the official search scores it: each candidate's BN statistics
# are recalibrated on 2,048 training images, then it is scored by the top-1 of the linear probe (linear_probe.py, the
# frozen supernet + a linear classifier trained with labels) on 2,048 held-out images. The label-free alternative
# is search.py. (The official search samples candidates by a tree search with LightGBM classifiers; this is the
# evolution of search.py.)
#   bash tools/dist_train.sh configs/pinas/search_linear_probe.py 8 --work-dir work_dirs/search_linear_probe
_base_ = ['./linear_probe.py']

load_from = 'work_dirs/linear_probe/epoch_100.pth'  # the trained linear probe, or the converted official one
model = dict(architecture=dict(backbone=dict(init_cfg=None)))  # its weights are all in load_from

train_cfg = dict(
    _delete_=True,
    type='PiNASSearchLoop',
    dataloader={{_base_.val_dataloader}},  # labelled held-out images
    score=dict(type='AccuracyScore'),
    calibrate_dataloader={{_base_.train_dataloader}},
    calibrate_sample_num=2048,
    num_score_images=2048,
    max_epochs=20,
    num_candidates=50,
    top_k=10,
    num_mutation=25,
    num_crossover=25,
    input_shape=(3, 224, 224))
val_cfg = val_dataloader = val_evaluator = None  # the search scores candidates itself
