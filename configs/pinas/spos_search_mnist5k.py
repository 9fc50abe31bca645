# Evolutionary search of the supervised SPOS baseline supernet (spos_supernet_mnist5k.py, README command A), with the
# settings of search_mnist5k.py: each candidate BN-recalibrated on 512 training digits, then scored by the supernet's
# own classifier (top-1 %) on 512 held-out digits. The baseline the label-free Pi-NAS search is compared against.
#   python tools/train.py configs/pinas/spos_search_mnist5k.py --work-dir work_dirs/spos_search_mnist5k
_base_ = ['./spos_supernet_mnist5k.py']

load_from = 'work_dirs/spos_supernet_mnist5k/epoch_5.pth'  # tools/train.py configs/pinas/spos_supernet_mnist5k.py

train_cfg = dict(
    _delete_=True,
    type='PiNASSearchLoop',
    dataloader={{_base_.val_dataloader}},  # labelled held-out digits
    score=dict(type='AccuracyScore'),
    calibrate_dataloader={{_base_.train_dataloader}},
    calibrate_sample_num=512,
    num_score_images=512,
    max_epochs=8,
    num_candidates=16,
    top_k=4,
    num_mutation=6,
    num_crossover=6,
    input_shape=(3, 32, 32))
val_cfg = val_dataloader = val_evaluator = None  # the search scores candidates itself
