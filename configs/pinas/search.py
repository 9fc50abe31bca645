# Evolutionary search of the Pi-NAS supernet (supernet.py) on ImageNet, without labels: each candidate's BN statistics
# are recalibrated on 2,048 training images, then it is scored by the supernet's own cross-path InfoNCE against the
# EMA teacher and its 65,536 negatives (ContrastiveScore) on two MoCo-v2 views of 2,048 held-out images.
# 20 generations of 50 (top 10 kept, 25 by mutation, 25 by crossover: mmrazor's SPOS settings); ranks split the
# candidates. The paper's search found Pi-NAS-trans 3333113330011021 and Pi-NAS-cls 3013231203213032
# (configs/pinas/subnets/); it used no FLOPs constraint (the space is near iso-FLOPs: 5.2-5.6 G MACs).
#   bash tools/dist_train.sh configs/pinas/search.py 8 --work-dir work_dirs/search
# then best_fix_subnet.yaml -> tools/export_subnet.py -> configs/transfer/.
_base_ = ['./supernet.py']

load_from = 'work_dirs/supernet/epoch_100.pth'  # the trained supernet


def imagenet(split, num_views):
    """ImageNet images of one split as num_views MoCo-v2 views each (labels unused)."""
    return dict(
        batch_size=128,
        num_workers=8,
        sampler=dict(type='DefaultSampler', shuffle=False),  # the search takes a fixed seeded subset itself
        collate_fn=dict(type='default_collate'),
        dataset=dict(_scope_='mmpretrain', type='ImageNet', data_root='data/imagenet', split=split, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView', num_views=num_views, transforms=[{{_base_.view_pipeline}}]),
            dict(type='PackInputs'),
        ]))


train_cfg = dict(
    _delete_=True,
    type='PiNASSearchLoop',
    dataloader=imagenet('val', num_views=2),  # held-out images: the student's view and the teacher's view
    score=dict(type='ContrastiveScore'),
    calibrate_dataloader=imagenet('train', num_views=1),
    calibrate_sample_num=2048,
    num_score_images=2048,
    max_epochs=20,
    num_candidates=50,
    top_k=10,
    num_mutation=25,
    num_crossover=25,
    input_shape=(3, 224, 224),
    # e.g. no more MACs than ResNeSt-50's backbone: constraints_range=dict(flops=(0, 5400)),
    # with multi_objective=True for the Pareto front of score vs MACs (MixPath-style)
)
custom_hooks = []  # the supernet's training checks do not apply
