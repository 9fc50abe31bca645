# Copyright (c) pinas_mm contributors. All rights reserved.
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import DefaultScope
from mmengine.dist import get_world_size, sync_random_seed
from mmpretrain.models.selfsup import MoCo
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp

from pinas_mm.registry import MODELS
from ..utils import SampledPathEMA, apply_path, sample_two_paths, searchable_layers, unsampled_parameters


@MODELS.register_module()
class PiNAS(MoCo):
    """Pi-NAS: self-supervised supernet training by cross-path learning with a mean teacher that uses negatives.

    `Pi-NAS: Improving Neural Architecture Search by Reducing Supernet Training Consistency Shift
    <https://arxiv.org/abs/2108.09671>`_ (ICCV 2021).

    Each step samples two paths alpha and beta that differ in every layer and takes four views v1..v4 of each image.
    In the official code's order, the student (supernet backbone + MoCo-v2 projector) encodes v1 through alpha, the
    teacher, an EMA of the student, v2 through alpha, then the student v3 through beta and the teacher v4 through
    beta. The loss is ``InfoNCE(q_alpha, k_beta) + InfoNCE(q_beta, k_alpha)`` with negatives from a MoCo queue, which
    receives the un-normalised mean of the two keys. Before each key the teacher's parameters (never its buffers) move
    towards the student's on that key's path only, with the stem, shortcuts and projector, so these move twice a step;
    candidates no path used get no gradient, hence no momentum or weight-decay update (and with
    :class:`ZeroGradAsNoneHook`, neither do parameters whose gradient is all zero, as the official optimizer hook).

    mmpretrain's MoCo provides the projector, contrastive head, queue, shuffle-BN and data preprocessor. Paths are
    drawn from a generator seeded alike on every rank (a broadcast seed) and saved with the model, so all ranks
    train the same paths and a resumed run draws the paths the uninterrupted one would have.

    Args:
        backbone (dict | nn.Module): The supernet, e.g. ``dict(type='PiNASResNeSt')`` (``max_paths > 1`` for MixPath).
        neck (dict): The projector, e.g. ``dict(type='MoCoV2Neck', in_channels=2048, hid_channels=2048,
            out_channels=128, with_avg_pool=True)``; built, like ``head``, in the mmpretrain scope.
        head (dict): ``dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2)``.
        queue_len (int): Negatives in the queue; a multiple of the global batch size. Default: 65536.
        feat_dim (int): Projection dimension. Default: 128.
        momentum (float): mmengine's EMA momentum, ``1 - m`` of the paper's m = 0.999. Default: 0.001.
        cross_path (bool): Two different paths (Pi-NAS); False uses one path for both branches (ablation).
            Default: True.
        use_negatives (bool): InfoNCE against the queue; False uses the negative-free (BYOL-style) cosine loss
            ``2 - 2 cos(q, k)`` and keeps no queue (ablation). Default: True.
        mutator (dict): The mmrazor mutator over the backbone's mutables, for search and export.
            Default: ``dict(type='NasMutator')``.
        data_preprocessor (dict, optional): Default: mmpretrain's ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self, backbone, neck, head, queue_len=65536, feat_dim=128, momentum=0.001, cross_path=True,
                 use_negatives=True, mutator=dict(type='NasMutator'), data_preprocessor=None, init_cfg=None):
        if isinstance(backbone, dict):
            backbone = MODELS.build(backbone)
        with DefaultScope.overwrite_default_scope('mmpretrain'):  # MoCo's own parts are mmpretrain modules
            super().__init__(backbone, neck, head, queue_len, feat_dim, momentum,
                             data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student_layers = searchable_layers(self.backbone)
        if not self.student_layers:
            raise TypeError(f'PiNAS trains a supernet, but the backbone {type(self.backbone).__name__} has no '
                            'searchable layers (use PiNASResNeSt without arch)')
        self.encoder_k = SampledPathEMA(nn.Sequential(self.backbone, self.neck), momentum)  # replaces MoCo's
        self.teacher_layers = searchable_layers(self.encoder_k.module)
        self.mutator = MODELS.build(mutator)
        self.mutator.prepare_from_supernet(self.backbone)
        self.cross_path = cross_path
        self.use_negatives = use_negatives
        self.path_generator = torch.Generator().manual_seed(sync_random_seed())
        self.register_buffer('num_enqueued', torch.zeros((), dtype=torch.long))

    def get_extra_state(self):
        # a tensor (not a dict): mmengine broadcasts every state_dict value from rank 0 at start-up
        return self.path_generator.get_state()

    def set_extra_state(self, state):
        self.path_generator.set_state(state)

    def embed(self, images, path, teacher=False):
        """L2-normalised projections of preprocessed ``images`` through ``path`` of the student or of the teacher,
        with the BN mode the model is in and no shuffle: what the loss compares, for monitors and checks."""
        layers, network = ((self.teacher_layers, self.encoder_k.module) if teacher else
                           (self.student_layers, nn.Sequential(self.backbone, self.neck)))
        apply_path(layers, path)
        return F.normalize(network(images)[0], dim=1)

    @torch.no_grad()
    def _encode_key(self, view, path):
        """The teacher's keys, after moving the teacher towards the student on ``path`` alone (official code: once
        per path, so the shared stem, shortcuts and projector move twice a step)."""
        student = nn.Sequential(self.backbone, self.neck)
        unsampled = {id(p) for p in unsampled_parameters(self.student_layers, path)}
        self.encoder_k.update_parameters(student, {n for n, p in student.named_parameters() if id(p) in unsampled})
        view, restore_order = batch_shuffle_ddp(view)  # shuffle-BN: no batch statistics shared with the query
        return batch_unshuffle_ddp(self.embed(view, path, teacher=True), restore_order)

    def contrastive_loss(self, query, key):
        """InfoNCE of normalised queries against their keys and the queue (or the cosine loss without negatives);
        also the search's label-free score."""
        positive = torch.einsum('nc,nc->n', query, key).unsqueeze(-1)
        if not self.use_negatives:
            return (2 - 2 * positive).mean()
        return self.head.loss(positive, torch.einsum('nc,ck->nk', query, self.queue.clone().detach()))

    def loss(self, inputs, data_samples, **kwargs):
        if not isinstance(inputs, list) or len(inputs) != 4:
            got = f'{len(inputs)} views' if isinstance(inputs, list) else 'one image tensor'
            raise ValueError(f'PiNAS needs 4 views of every image (MultiView with num_views=4), got {got}')
        alpha, beta = sample_two_paths(self.student_layers, self.path_generator, self.cross_path)
        self.last_paths = alpha, beta  # read by hooks and tests
        query_alpha = self.embed(inputs[0], alpha)
        key_alpha = self._encode_key(inputs[1], alpha)  # the official order: alpha's key (and teacher move) first
        query_beta = self.embed(inputs[2], beta)
        key_beta = self._encode_key(inputs[3], beta)
        losses = dict(loss_alpha_beta=self.contrastive_loss(query_alpha, key_beta),
                      loss_beta_alpha=self.contrastive_loss(query_beta, key_alpha),
                      teacher_momentum=query_alpha.new_tensor(1 - self.encoder_k.momentum))  # logged: the paper's m
        if self.use_negatives:
            self._dequeue_and_enqueue((key_alpha + key_beta) / 2)  # un-normalised, as the official code
            self.num_enqueued += key_alpha.shape[0] * get_world_size()  # the queue takes every rank's keys
            losses['queue_fill'] = (self.num_enqueued.float() / self.queue_len).clamp(max=1)
        return losses
