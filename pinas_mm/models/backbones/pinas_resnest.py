# Copyright (c) pinas_mm contributors. All rights reserved.
import os.path as osp

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from mmengine.runner.checkpoint import _load_checkpoint
from mmpretrain.models.backbones.resnest import Bottleneck, SplitAttentionConv2d
from mmpretrain.models.backbones.resnet import ResLayer, ResNetV1d
from mmrazor.models.mutables import OneShotMutableOP

from pinas_mm.registry import MODELS
from pinas_mm.structures import SubnetError, format_subnet, parse_subnet, state_dict_mismatch
from ..mutables import MixPathBottlenecks
from ..utils.feature_map_checks import install_feature_map_checks


class GroupWidthBottleneck(Bottleneck):
    """mmpretrain's ResNeSt ``Bottleneck``, with the candidate's width at cardinality 1 too.

    mmpretrain widens the block to ``groups * width_per_group`` only when ``groups > 1``; at ``groups == 1`` it keeps
    ``out_channels // expansion`` (width 64) whatever ``width_per_group`` says. ResNeSt's rule applies the width at
    every cardinality, so a ``(1, 1, 16)`` candidate is a quarter as wide. Where the rules agree (every candidate of the
    paper's space) the block is mmpretrain's own, module for module.
    """

    def __init__(self, *, groups, width_per_group, **kwargs):
        self._single_group_width = width_per_group if groups == 1 else None
        super().__init__(groups=groups, width_per_group=width_per_group, **kwargs)

    @property
    def mid_channels(self):
        return self._single_group_width or self._mid_channels

    @mid_channels.setter
    def mid_channels(self, value):  # what mmpretrain's blocks compute, used at cardinality > 1
        self._mid_channels = value


@MODELS.register_module()
class PiNASResNeSt(ResNetV1d):
    """The Pi-NAS search space: a ResNeSt-50-shaped backbone whose every bottleneck chooses a split-attention block.

    Pi-NAS: `Improving Neural Architecture Search by Reducing Supernet Training Consistency Shift
    <https://arxiv.org/abs/2108.09671>`_ (ICCV 2021).

    Deep stem and avg-down shortcuts as ResNeSt (mmpretrain's ``ResNetV1d``); each of the ``sum(stage_blocks)``
    layers (16 in the paper's space) is an mmrazor ``OneShotMutableOP`` over mmpretrain's ResNeSt ``Bottleneck``
    built with each of ``candidates``, written ``(radix, cardinality, bottleneck_width)``. All candidates of a layer
    share the layer's shortcut. Candidate ``'1'`` everywhere is ResNeSt-50.

    Given ``arch``, the backbone is that fixed subnet instead: each layer is the chosen ``Bottleneck`` itself, so
    parameter names are those of mmpretrain's ``ResNeSt`` (the all-1 subnet loads ResNeSt-50 checkpoints as they are)
    and supernet weights map onto it with :func:`pinas_mm.structures.subnet_state_dict`.

    With ``max_paths > 1`` it is a MixPath supernet instead: each layer is a :class:`MixPathBottlenecks` running 1 to
    ``max_paths`` candidates at once with Shadow BN, and a subnet chooses a set of candidates per layer.

    Args:
        arch (str | list | dict, optional): The fixed subnet: a YAML/JSON path in mmrazor's subnet format, a digit
            string (``'3333113330011021'``), a list or a dict; see :mod:`pinas_mm.structures.subnet`. ``None``
            builds the supernet. Default: None.
        stage_blocks (Sequence[int]): Searchable layers per stage. Default: ``(3, 4, 6, 3)``.
        candidates (Sequence[tuple]): ``(radix, cardinality, bottleneck_width)`` of each candidate block; candidate
            ``i`` is named ``str(i)``. The width applies at every cardinality, as ResNeSt's group width
            ``int(mid * width / 64) * cardinality`` (:class:`GroupWidthBottleneck`). Default: the Pi-NAS space
            ``((1, 1, 64), (2, 1, 64), (1, 2, 42), (2, 2, 40))``.
        reduction_factor (int): Reduction factor of the split-attention MLP. Default: 4.
        max_paths (int): Most candidates a layer runs at once; 1 is single-path (Pi-NAS, SPOS), more is MixPath.
            Default: 1.
        train_frozen_norm (bool): BN layers of frozen stages (``frozen_stages``) still normalise with batch
            statistics and update their running statistics in training mode, as the official linear probe on the
            frozen supernet does (BN in train mode over random paths); mmpretrain puts frozen stages in eval mode.
            Default: False.
        pretrained (str, optional): A checkpoint, as mmdet's and mmseg's ``ResNet`` take it (mmseg's
            ``EncoderDecoder`` hands its own ``pretrained`` to the backbone): it becomes ``init_cfg=dict(type=
            'Pretrained', checkpoint=pretrained, prefix='backbone.')``, the prefix of tools/export_subnet.py's and
            mmpretrain classifiers' checkpoints. Refused together with ``init_cfg``. Default: None.
        **kwargs: mmpretrain ``ResNet`` arguments: ``stem_channels`` (64), ``base_channels`` (64; stage widths are
            ``base_channels * 2**i``), ``strides``, ``dilations`` (DeepLab: ``(1, 2, 1, 1)``, ``(1, 1, 2, 4)``),
            ``out_indices``, ``frozen_stages``, ``norm_cfg``, ``norm_eval``, ``with_cp``, ``zero_init_residual``,
            ``drop_path_rate``, ``init_cfg``.
    """
    PINAS_CANDIDATES = ((1, 1, 64), (2, 1, 64), (1, 2, 42), (2, 2, 40))

    def __init__(self, arch=None, stage_blocks=(3, 4, 6, 3), candidates=PINAS_CANDIDATES, reduction_factor=4,
                 max_paths=1, train_frozen_norm=False, pretrained=None, **kwargs):
        self.train_frozen_norm = train_frozen_norm
        self.candidate_settings = {str(i): tuple(setting) for i, setting in enumerate(candidates)}
        if not 1 <= max_paths <= len(self.candidate_settings):
            raise ValueError(f'max_paths must be in 1..{len(self.candidate_settings)} (the candidates), '
                             f'got {max_paths}')
        self.reduction_factor = reduction_factor
        self.max_paths = max_paths
        self.layer_names = [f'layer{s + 1}.{b}' for s, blocks in enumerate(stage_blocks) for b in range(blocks)]
        self.subnet = None if arch is None else parse_subnet(arch, self.layer_names, list(self.candidate_settings),
                                                             max_paths)
        self._check_dilation(kwargs.get('strides', (1, 2, 2, 2)), kwargs.get('dilations', (1, 1, 1, 1)))
        self._layer_indices = iter(range(len(self.layer_names)))  # consumed by _make_layer, in build order
        depth = 3 * sum(stage_blocks) + 2  # 50 for the paper's space
        self.arch_settings = {depth: (Bottleneck, tuple(stage_blocks))}
        kwargs.setdefault('num_stages', len(stage_blocks))
        if pretrained is not None:
            kwargs['init_cfg'] = self._pretrained_init_cfg(pretrained, kwargs.get('init_cfg'))
        super().__init__(depth=depth, **kwargs)
        install_feature_map_checks()  # a neck or head given too few of these maps will name out_indices

    @staticmethod
    def _pretrained_init_cfg(pretrained, init_cfg):
        """mmdet's and mmseg's ``pretrained`` argument as the ``init_cfg`` it stands for; both at once are refused, as
        mmdet does, since one of the two checkpoints would be ignored."""
        if not isinstance(pretrained, str):
            raise TypeError(f'pretrained must be a checkpoint path or None, got {type(pretrained).__name__}')
        if init_cfg:
            raise ValueError(f'PiNASResNeSt got both pretrained={pretrained!r} and init_cfg={init_cfg}; give one. '
                             "In an mmseg config the model's pretrained reaches the backbone: set "
                             "model.pretrained=None to keep the backbone's init_cfg")
        return dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')

    @staticmethod
    def _check_dilation(strides, dilations):
        """A dilated stage replaces its stride by dilation (DeepLab's output stride 8: strides (1, 2, 1, 1),
        dilations (1, 1, 2, 4)); both at once would shrink the features and dilate them too."""
        for stage, (stride, dilation) in enumerate(zip(strides, dilations), 1):
            if stride > 1 and dilation > 1:
                raise ValueError(f'layer{stage}: stride {stride} with dilation {dilation}; a dilated stage keeps stride '
                                 f'1 (output stride 8: strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)), got strides='
                                 f'{tuple(strides)}, dilations={tuple(dilations)}')

    def train(self, mode=True):
        super().train(mode)
        if mode and self.train_frozen_norm:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.train()
        return self

    def init_weights(self):
        """A ``Pretrained`` checkpoint is loaded strictly, refusing one of another subnet or space by name.

        mmengine's ``Pretrained`` init loads leniently: the weights of a different subnet would load where shapes happen
        to agree and leave the rest at random, with only a warning. Without a checkpoint, the initialisation is the
        official Pi-NAS code's: Kaiming for conv weights, ones for BN, every candidate's last BN at zero with
        ``zero_init_residual`` and the split-attention biases at PyTorch's default.
        """
        init_cfg = self.init_cfg if isinstance(self.init_cfg, dict) else {}
        if init_cfg.get('type') != 'Pretrained':
            initialised = self._is_init
            super().init_weights()
            if not initialised:
                self._reset_attention_biases()
            return
        checkpoint = _load_checkpoint(init_cfg['checkpoint'], map_location='cpu')
        prefix = init_cfg.get('prefix', '')
        state_dict = {key[len(prefix):]: value for key, value in checkpoint.get('state_dict', checkpoint).items()
                      if key.startswith(prefix)}
        source = f'{init_cfg["checkpoint"]}' + (f' (prefix {prefix!r})' if prefix else '')
        saved = checkpoint.get('meta', {}).get('subnet') if isinstance(checkpoint.get('meta'), dict) else None
        if saved is not None and self.subnet is not None:
            saved = parse_subnet(saved, self.layer_names, list(self.candidate_settings), self.max_paths)
            for name, theirs, ours in zip(self.layer_names, saved, self.subnet):
                if theirs != ours:
                    raise SubnetError(f'{source} holds subnet {format_subnet(saved)}, the backbone is '
                                      f'{format_subnet(self.subnet)}: {name} is candidate {theirs!r} there, {ours!r} '
                                      'here')
        mismatch = state_dict_mismatch(self.state_dict(), state_dict)
        if mismatch and self.subnet is None:
            raise SubnetError(f'{source} does not fit this supernet: {mismatch}. Is it a checkpoint of another space, '
                              'or is the prefix wrong?')
        if mismatch:
            raise SubnetError(f'{source} does not fit subnet {format_subnet(self.subnet)}: {mismatch}. Is it a '
                              'checkpoint of another subnet? Export one with tools/export_subnet.py')
        self.load_state_dict(state_dict)
        self._is_init = True

    def _reset_attention_biases(self):
        """The split-attention fc1/fc2 biases back to PyTorch's default, uniform within 1 / sqrt(fan_in): the official
        code Kaiming-initialises only conv weights, mmengine's Kaiming init also zeroes biases."""
        for module in self.modules():
            if isinstance(module, SplitAttentionConv2d):
                for conv in (module.fc1, module.fc2):
                    bound = conv.weight[0].numel() ** -0.5
                    nn.init.uniform_(conv.bias, -bound, bound)

    def make_res_layer(self, **kwargs):
        """A stage: mmpretrain's ``ResLayer`` builds the avg-down shortcut and calls ``block`` once per layer."""
        kwargs['block'] = self._make_layer
        return ResLayer(**kwargs)

    def _make_layer(self, out_channels, expansion, **block_kwargs):
        """One searchable layer, or a fixed subnet's chosen block(s); all share the shortcut (``downsample``)."""
        index = next(self._layer_indices)
        mid_channels = out_channels // expansion
        shortcut = block_kwargs.get('downsample')
        if shortcut is not None and block_kwargs.get('dilation', 1) > 1 and not isinstance(shortcut[0], nn.AvgPool2d):
            # a dilated stage has stride 1, so mmpretrain's ResLayer leaves out the avg-pool of the shortcut and the
            # conv/BN move up one index; a placeholder keeps the names of ImageNet (stride-2) weights, as mmseg does
            shortcut.insert(0, nn.Identity())

        def build(choice):
            radix, cardinality, width = self.candidate_settings[choice]
            # ResNeSt's group width int(mid * width / 64) * cardinality, at any stage width (DESIGN §2)
            group_width = mid_channels * width // 64
            if group_width == 0 or group_width % radix:
                raise ValueError(f'{self.layer_names[index]}: candidate {choice!r} (radix {radix}, cardinality '
                                 f'{cardinality}, width {width}) gets {group_width} channels per group at stage '
                                 f'width {mid_channels}, which radix {radix} does not divide; widen base_channels')
            return GroupWidthBottleneck(out_channels=out_channels, expansion=expansion, radix=radix,
                                        groups=cardinality, width_per_group=group_width, base_channels=mid_channels,
                                        reduction_factor=self.reduction_factor, avg_down_stride=True, **block_kwargs)

        chosen = None if self.subnet is None else self.subnet[index]
        if self.max_paths == 1:
            if chosen is not None:
                return build(chosen)
            layer = OneShotMutableOP(
                candidates=nn.ModuleDict({choice: build(choice) for choice in self.candidate_settings}))
            layer.out_channels = out_channels  # read by ResNet to set feat_dim, as from a block
            return layer
        shortcut = block_kwargs.pop('downsample', None)  # applied once by the layer, not by each candidate
        layer = MixPathBottlenecks(
            nn.ModuleDict({choice: build(choice) for choice in chosen or self.candidate_settings}),
            out_channels=out_channels, max_paths=self.max_paths, downsample=shortcut,
            norm_cfg=block_kwargs['norm_cfg'])
        if chosen is not None:
            layer.fix_chosen(chosen)
        return layer
