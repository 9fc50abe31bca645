# Evolutionary search of the scaled-down Pi-NAS supernet (supernet_mnist5k.py) with Pi-NAS's label-free score, on a
# 2-core CPU: 8 generations of 16 candidates, each BN-recalibrated on 512 training digits and scored on 512 held-out
# (validation) digits, whose labels are not used.
#   python tools/train.py configs/pinas/search_mnist5k.py --work-dir work_dirs/search_mnist5k
# --resume continues a killed search from its last finished generation.
_base_ = ['./supernet_mnist5k.py']

load_from = 'work_dirs/supernet_mnist5k/epoch_10.pth'  # the trained supernet


def digits(split, num_views):
    """mnist_5k images of one split, as num_views augmented views each (the supernet's training augmentation)."""
    return dict(
        batch_size=128,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),  # the search takes a fixed seeded subset itself
        collate_fn=dict(type='default_collate'),
        dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_root={{_base_.data_root}}, data_prefix=split,
                     with_label=False, pipeline=[
                         dict(type='LoadImageFromFile'),
                         dict(type='MultiView', num_views=num_views, transforms=[{{_base_.view_pipeline}}]),
                         dict(type='PackInputs'),
                     ]))


train_cfg = dict(
    _delete_=True,
    type='PiNASSearchLoop',
    dataloader=digits('val', num_views=2),  # held-out images: the student's view and the teacher's view
    score=dict(type='ContrastiveScore'),
    calibrate_dataloader=digits('train', num_views=1),
    calibrate_sample_num=512,
    num_score_images=512,
    max_epochs=8,
    num_candidates=16,
    top_k=4,
    num_mutation=6,
    num_crossover=6,
    input_shape=(3, 32, 32))
custom_hooks = []  # the supernet's training checks do not apply
