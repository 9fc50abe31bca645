# Copyright (c) pinas_mm contributors. All rights reserved.
"""Is a Pi-NAS supernet learning, or collapsing? Figures of its embeddings of fixed held-out images.

Used by the training monitor (:class:`pinas_mm.engine.hooks.LearningMonitorHook`) and by the ranking benchmark's
check of its supernets (``benchmarks/ranking/embeddings.py``), so that both measure the same thing the same way.
"""
from contextlib import contextmanager

import torch

from pinas_mm.models.task_modules.scores.base import pooled_features, weighted_knn_top1
from pinas_mm.models.utils import (apply_path, kept_bn_statistics, sample_two_paths, searchable_layers,
                                    tracked_bns)

# Above this mean cosine between the embeddings of different images, the supernet is (close to) collapsed.
COLLAPSE_COSINE = 0.95


def residual_bn_scale(layers):
    """Mean |gamma| of the last BN of every candidate of the searchable ``layers``.

    Zero-initialised (the official recipe), every path starts as the same function, the stem and shortcuts; the
    scales must grow for the paths to differ, and the supernet to rank them.
    """
    scales = [candidate.norm3.weight.detach().abs().mean()
              for layer in layers for candidate in layer._candidates.values()]
    return float(torch.stack(scales).mean())


@contextmanager
def batch_statistics(model):
    """Within the block, ``model`` is in train mode (BN normalises with batch statistics, as in training); on exit
    its BN running statistics and its mode are as they were."""
    mode = model.training
    model.train()
    try:
        with kept_bn_statistics(tracked_bns([model])):
            yield
    finally:
        model.train(mode)


def retrieval_top1(queries, keys):
    """Share of queries whose most cosine-similar key is their own (row i of both is image i)."""
    return float(((queries @ keys.T).argmax(1) == torch.arange(len(queries), device=queries.device)).float().mean())


def _pair_views(views):
    """The views of a held-out batch: (plain, student's, teacher's); one view serves all three."""
    if len(views) not in (1, 3):
        raise ValueError(f'held-out images need 1 view (plain) or 3 (plain and two augmented: MultiView with '
                         f'num_views=[1, 2]), got {len(views)}')
    return (views[0], views[0], views[0]) if len(views) == 1 else tuple(views)


@torch.no_grad()
def learning_figures(model, images, path_pairs=4, seed=0, labels=None, bank=None, bank_labels=None, k=20,
                     temperature=0.07):
    """How well a :class:`PiNAS` supernet tells images apart across paths, and whether its paths differ.

    ``images`` are preprocessed held-out batches, each a list of views: the plain image and, best, two fixed
    augmented views of it, as training pairs them (one view stands in for all three). For ``path_pairs`` pairs of
    paths that differ in every layer (drawn from ``seed``, the same for every model), the student embeds the first
    augmented view through alpha, the teacher the second through beta (before the first training step the teacher is
    not yet the student's copy, so the student stands in for it), and the student the plain image through alpha and
    beta; BN on batch statistics, as in training.

    Returns a dict of:

    - ``cross_view_retrieval_top1``: share of images whose nearest teacher embedding (other view, other path) is
      their own (chance ``1 / images``): the task cross-path learning trains, and what its label-free score needs;
    - ``cos_positive_pair``: mean cosine of those two embeddings of the same image;
    - ``cross_path_retrieval_top1``: the same on the plain images (the student's alpha against the teacher's beta);
      trivially 1 at zero-init, where every path and the teacher are the same function;
    - ``cos_between_images``: mean cosine of two different plain images (student, one path); near 1: collapsed;
    - ``cos_between_paths``: mean cosine of a plain image through the student on alpha and on beta; 1: the paths
      compute the same function;
    - ``residual_bn_scale``: :func:`residual_bn_scale` of the student;
    - ``knn_top1`` (with ``labels``, ``bank`` and ``bank_labels``, labels used only to measure): weighted kNN top-1 (%)
      of the plain held-out images against the labelled ``bank`` batches (one view each), in the student's pooled
      backbone features through the first alpha.
    """
    generator = torch.Generator().manual_seed(seed)
    teacher = bool(model.encoder_k.steps > 0)
    views = [_pair_views(batch) for batch in images]
    figures = dict(cross_view_retrieval_top1=0., cos_positive_pair=0., cross_path_retrieval_top1=0.,
                   cos_between_images=0., cos_between_paths=0.)
    first_alpha = None
    with batch_statistics(model):
        for _ in range(path_pairs):
            alpha, beta = sample_two_paths(model.student_layers, generator)
            first_alpha = first_alpha or alpha
            query = torch.cat([model.embed(student_view, alpha) for _, student_view, _ in views])
            key = torch.cat([model.embed(teacher_view, beta, teacher=teacher) for _, _, teacher_view in views])
            plain_alpha, plain_beta = (torch.cat([model.embed(plain, path) for plain, _, _ in views])
                                       for path in (alpha, beta))
            plain_key = torch.cat([model.embed(plain, beta, teacher=teacher) for plain, _, _ in views])
            count = len(query)
            between = plain_alpha @ plain_alpha.T
            figures['cross_view_retrieval_top1'] += retrieval_top1(query, key)
            figures['cross_path_retrieval_top1'] += retrieval_top1(plain_alpha, plain_key)
            figures['cos_positive_pair'] += float((query * key).sum(1).mean())
            figures['cos_between_images'] += float((between.sum() - between.diag().sum()) / (count * (count - 1)))
            figures['cos_between_paths'] += float((plain_alpha * plain_beta).sum(1).mean())
        figures = {name: value / path_pairs for name, value in figures.items()}
        figures['residual_bn_scale'] = residual_bn_scale(model.student_layers)
        if labels is not None and bank is not None:
            apply_path(model.student_layers, first_alpha)
            features = [torch.cat([pooled_features(model.backbone, batch[0]) for batch in batches])
                        for batches in (views, bank)]
            figures['knn_top1'] = weighted_knn_top1(features[0], labels, features[1], bank_labels, k, temperature)
    return figures


@torch.no_grad()
def backbone_figures(backbone, images, path_pairs=4, seed=0, labels=None, bank=None, bank_labels=None, k=20,
                     temperature=0.07):
    """Whether the paths of any supernet backbone (self-supervised or supervised) compute different functions, in
    its pooled features, so that supernets trained with and without labels are measured alike.

    ``images`` are preprocessed held-out batches (their first view is used); the paths are the pairs of
    :func:`learning_figures`, drawn from ``seed``; BN on batch statistics. Returns ``residual_bn_scale``,
    ``backbone_cos_between_paths`` (mean cosine of an image's pooled features through alpha and through beta; 1: the
    paths compute the same function) and, with labels and a bank, ``knn_top1`` (through the first alpha, as
    :func:`learning_figures`).
    """
    layers = searchable_layers(backbone)
    generator = torch.Generator().manual_seed(seed)
    plain = [batch[0] for batch in images]
    cosine, first_alpha = 0., None
    with batch_statistics(backbone):
        for _ in range(path_pairs):
            alpha, beta = sample_two_paths(layers, generator)
            first_alpha = first_alpha or alpha
            features = []
            for path in (alpha, beta):
                apply_path(layers, path)
                features.append(torch.cat([pooled_features(backbone, batch) for batch in plain]))
            cosine += float((features[0] * features[1]).sum(1).mean()) / path_pairs
        figures = dict(residual_bn_scale=residual_bn_scale(layers), backbone_cos_between_paths=cosine)
        if labels is not None and bank is not None:
            apply_path(layers, first_alpha)
            queries, keys = (torch.cat([pooled_features(backbone, batch[0]) for batch in batches])
                             for batches in (images, bank))
            figures['knn_top1'] = weighted_knn_top1(queries, labels, keys, bank_labels, k, temperature)
    return figures
