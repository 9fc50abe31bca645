# Copyright (c) pinas_mm contributors. All rights reserved.
import os.path as osp

from mmengine import fileio
from mmengine.dist import is_main_process
from mmrazor.structures import Candidates

from pinas_mm.models.task_modules.scores.base import classifier_of
from pinas_mm.registry import LOOPS
from pinas_mm.structures import parse_subnet
from .search_loop import PiNASSearchLoop


def load_subnet_list(subnets):
    """Format strings from a list, or from a JSON file holding a list of them or of records with a ``subnet`` field
    (a search's ``search_generation_k.json``, or a results file's ``records``); repeats are kept once, in order."""
    if isinstance(subnets, str):
        content = fileio.load(subnets)
        subnets = content['records'] if isinstance(content, dict) else content
    keys = [entry['subnet'] if isinstance(entry, dict) else entry for entry in subnets]
    return list(dict.fromkeys(str(key) for key in keys))


@LOOPS.register_module()
class SubnetScoreLoop(PiNASSearchLoop):
    """Score given subnets with a trained supernet exactly as :class:`PiNASSearchLoop` scores its candidates: the same
    score, BN recalibration, images and seed, split across ranks.

    This is how the supernet ranks architectures; compared with the subnets' stand-alone accuracy
    (``tools/rank_correlation.py``, ``benchmarks/ranking/``) it measures how far that ranking can be trusted.
    Writes ``subnet_scores.json`` in the work dir: one record per subnet (subnet, choices, score, MACs, params), the
    format of a search's ``search_generation_k.json``, each record's ``subnet`` the string it was listed as.

    Args:
        subnets (list[str] | str): Format strings (``'31203'``) or a JSON file of them (see
            :func:`load_subnet_list`).
        **kwargs: :class:`PiNASSearchLoop`'s arguments of scoring (``dataloader``, ``score``,
            ``calibrate_dataloader``, ``calibrate_sample_num``, ``num_score_images``, ``input_shape``, ``seed``,
            ``data_preprocessor``); its evolution settings are unused.
    """

    def __init__(self, runner, subnets, **kwargs):
        super().__init__(runner, **dict(kwargs, max_epochs=1))  # a search config's other settings may stay
        self.subnet_keys = load_subnet_list(subnets)
        backbone = classifier_of(self.model).backbone
        self.subnet_paths = [parse_subnet(key, backbone.layer_names, list(backbone.candidate_settings),
                                          backbone.max_paths) for key in self.subnet_keys]

    def run(self):
        self.runner.call_hook('before_train')
        self._prepare(resumed=None)
        self._epoch = 0
        subnets = [dict(zip(self._group_order, path)) for path in self.subnet_paths]
        self.candidates = Candidates([{str(s): dict(self.cost_table(self.path(s)), score=0.)} for s in subnets])
        self.update_candidates_scores()  # also writes them as search_generation_1.json, keyed as the space formats
        # keyed as listed, so a caller finds its own strings (a MixPath space formats '30110' as '3 0 1 1 0')
        self.records = [dict(record, subnet=key) for record, key in zip(self.records, self.subnet_keys)]
        if is_main_process():
            fileio.dump(self.records, osp.join(self.runner.work_dir, 'subnet_scores.json'), indent=1)
        best = max(self.records, key=lambda r: r['score'])
        self.runner.logger.info(f'Scored {len(self.records)} subnets ({self.score_name}); best {best["subnet"]} '
                                f'{best["score"]:.4f}; records in subnet_scores.json')
        self.runner.call_hook('after_train')
