# search_mnist5k.py scored by kNN top-1 instead: held-out digits are classified by a weighted vote of their 20
# nearest of 1,000 labelled training digits, in the candidate's own backbone features. The supernet still trained
# without labels; labels only measure its features (the usual self-supervised evaluation, for when labels exist).
#   python tools/train.py configs/pinas/search_knn_mnist5k.py --work-dir work_dirs/search_knn_mnist5k
_base_ = ['./search_mnist5k.py']


def labelled_digits(split):
    """mnist_5k images of one split with their labels, resized to 32x32 without augmentation."""
    return dict(
        batch_size=128,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(_scope_='mmpretrain', type='CustomDataset', data_root={{_base_.data_root}}, data_prefix=split,
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='Resize', scale=(32, 32)),
                               dict(type='PackInputs')]))


train_cfg = dict(
    dataloader=dict(_delete_=True, **labelled_digits('val')),
    score=dict(_delete_=True, type='KNNScore', bank_dataloader=labelled_digits('train'), num_bank_images=1000, k=20,
               temperature=0.07))
