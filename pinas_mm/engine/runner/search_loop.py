# Copyright (c) pinas_mm contributors. All rights reserved.
import glob
import os.path as osp
import random
import re
import time

import numpy as np
import torch
from mmengine import fileio
from mmengine.dist import all_gather_object, broadcast_object_list, get_dist_info
from mmengine.model import revert_sync_batchnorm
from mmengine.runner.checkpoint import _load_checkpoint
from mmrazor.engine import EvolutionSearchLoop
from mmrazor.structures import Candidates

from pinas_mm.models.task_modules import BaseSubnetScore, SubnetCostTable
from pinas_mm.models.task_modules.scores.base import classifier_of
from pinas_mm.models.utils import apply_path, recalibrated_bn, searchable_layers
from pinas_mm.registry import LOOPS, MODELS, TASK_UTILS
from pinas_mm.structures import dump_subnet, format_subnet, state_dict_mismatch
from pinas_mm.utils.errors import ConfigError
from pinas_mm.visualization import plot_search
from .pareto import nsga2_select, non_dominated_sort
from .utils import load_fixed_batches

_CHECKPOINT = re.compile(r'search_epoch_(\d+)\.pkl$')


def _from_rank0(obj):
    """Rank 0's ``obj`` on every rank."""
    holder = [obj]
    broadcast_object_list(holder)
    return holder[0]


def build_score(cfg):
    """Build a subnet score, refusing unknown names with the list of registered scores."""
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    score_cls = TASK_UTILS.get(name) if isinstance(name, str) else name
    if not (isinstance(score_cls, type) and issubclass(score_cls, BaseSubnetScore)):
        known = sorted(key for key, cls in TASK_UTILS.module_dict.items() if issubclass(cls, BaseSubnetScore))
        raise KeyError(f'unknown score {name!r}; registered scores: {known}')
    return score_cls(**cfg)


@LOOPS.register_module()
class PiNASSearchLoop(EvolutionSearchLoop):
    """Evolutionary search of a trained supernet with label-free or supervised scores.

    mmrazor's ``EvolutionSearchLoop`` provides the evolution: each generation fills a population of
    ``num_candidates`` (random draws first, then mutation of and crossover between the ``top_k`` parents), scores
    it, and keeps the best. This loop changes what a one-shot search needs to be trusted and what Pi-NAS needs:

    - **Scores** are components (``score=dict(type=...)``, see :mod:`pinas_mm.models.task_modules.scores`) run on
      fixed, preprocessed batches of ``dataloader`` (a seeded subset of ``num_score_images``), identical for every
      candidate, instead of ``val_step`` and an evaluator: self-supervised models reject mmrazor's ``predict`` mode.
    - **BN recalibration** of each candidate on ``calibrate_sample_num`` training images of
      ``calibrate_dataloader`` (cumulative averages in train mode), with the supernet's own statistics restored
      afterwards; 0 scores with the supernet's statistics (ablation).
    - **Constraints** ``constraints_range=dict(flops=(lo, hi), params=(lo, hi))`` in millions of MACs / parameters
      of the backbone at ``input_shape``, looked up in a :class:`SubnetCostTable` (exact, measured once per layer
      choice) instead of building each candidate. Constraints no subnet meets fail at start-up; otherwise random
      draws stop with an error after ``max_draws``.
    - **Multi-objective** mode (``multi_objective=True``): parents are chosen by NSGA-II (non-dominated sorting of
      score vs MACs, then crowding distance) instead of by score.
    - **Distributed**: every rank draws the same candidates (rank 0's are broadcast), scores its share, and the
      scores are gathered; each candidate is scored alike on any number of ranks.
    - **Resume**: ``search_epoch_{k}.pkl`` holds the population, parents, scores and random states after each
      generation; ``--resume`` (or ``resume_from``) continues from the latest one and ends as an uninterrupted run.

    Writes to the work dir: ``search_generation_{k}.json`` (every generation's candidates with score, MACs,
    params), ``search_pareto_front.json``, ``best_fix_subnet.yaml`` (highest score, mmrazor's format),
    ``search.png`` (score vs MACs with the front, best score per generation).

    Args:
        runner (Runner): The runner. ``load_from`` names the trained supernet, which the loop loads strictly;
            a resumed search (``--resume``) reloads the one it started from.
        dataloader (dict): Held-out images the score runs on (e.g. two views each for label-free scores).
        score (dict): The score config, e.g. ``dict(type='ContrastiveScore')``.
        calibrate_dataloader (dict, optional): Training images for BN recalibration. Default: the runner's
            ``train_dataloader`` (the first view of multi-view batches is used).
        calibrate_sample_num (int): Images for BN recalibration per candidate. Default: 1024.
        num_score_images (int): Held-out images scored per candidate. Default: 1024.
        max_epochs (int): Generations. Default: 20.
        num_candidates (int): Population size. Default: 50.
        top_k (int): Parents kept per generation. Default: 10.
        num_mutation (int): Candidates made by mutation per generation. Default: 25.
        num_crossover (int): Candidates made by crossover per generation. Default: 25.
        mutate_prob (float): Probability that mutation redraws a layer. Default: 0.1.
        crossover_prob (float): Probability that crossover takes a layer from the second parent. Default: 0.5.
        constraints_range (dict, optional): ``flops``/``params`` bounds in millions: ``(lo, hi)`` or ``hi``.
        multi_objective (bool): NSGA-II parent selection on (score, MACs). Default: False.
        input_shape (tuple): ``(C, H, W)`` at which MACs are counted. Default: ``(3, 224, 224)``.
        max_draws (int): Random draws allowed per generation to fill the population. Default: 10000.
        seed (int, optional): Seed of the data subsets and the evolution. Default: the runner's seed.
        data_preprocessor (dict, optional): Preprocessor of the search data. Default: the model's.
        max_keep_ckpts (int): Searcher checkpoints kept. Default: 3.
        resume_from (str, optional): A searcher checkpoint to continue from.
    """

    def __init__(self, runner, dataloader, score, calibrate_dataloader=None, calibrate_sample_num=1024,
                 num_score_images=1024, max_epochs=20, num_candidates=50, top_k=10, num_mutation=25,
                 num_crossover=25, mutate_prob=0.1, crossover_prob=0.5, constraints_range=None,
                 multi_objective=False, input_shape=(3, 224, 224), max_draws=10000, seed=None,
                 data_preprocessor=None, max_keep_ckpts=3, resume_from=None):
        if num_mutation + num_crossover > num_candidates or top_k > num_candidates:
            raise ConfigError(f'num_mutation ({num_mutation}) + num_crossover ({num_crossover}) and top_k ({top_k}) '
                              f'must not exceed num_candidates ({num_candidates})')
        super().__init__(runner, dataloader, evaluator=[], max_epochs=max_epochs, max_keep_ckpts=max_keep_ckpts,
                         resume_from=resume_from, num_candidates=num_candidates, top_k=top_k,
                         num_mutation=num_mutation, num_crossover=num_crossover, mutate_prob=mutate_prob,
                         crossover_prob=crossover_prob, calibrate_sample_num=calibrate_sample_num,
                         constraints_range=dict(constraints_range or {}))
        unknown = set(self.constraints_range) - {'flops', 'params'}
        if unknown:
            raise KeyError(f'constraints_range supports flops and params (millions), got {sorted(unknown)}')
        self.score = build_score(score)
        self.score_cfg = repr(score)
        self.score_name = type(self.score).__name__
        self.calibrate_dataloader = calibrate_dataloader or runner.cfg.get('train_dataloader')
        self.num_score_images = num_score_images
        self.multi_objective = multi_objective
        self.input_shape = tuple(input_shape)
        self.max_draws = max_draws
        self.seed = runner.seed if seed is None else seed
        self.data_preprocessor = self.model.data_preprocessor if data_preprocessor is None else \
            MODELS.build(data_preprocessor).to(next(self.model.parameters()).device)
        self.layers = searchable_layers(classifier_of(self.model).backbone)
        groups = self.model.mutator.search_groups
        self._group_order = sorted(groups, key=lambda g: self.layers.index(groups[g][0]))
        self.score_cache, self.records = {}, []

    # ---- start-up -------------------------------------------------------------------------------------------
    def _load_supernet(self, resumed):
        """Load the supernet strictly: ``load_from``, or when resuming the checkpoint the search started from (the
        config's ``load_from`` when the killed search saved nothing yet).

        mmengine's ``load_from`` loads leniently, and ``--resume`` clears it; this refuses a search without supernet
        weights, or with a checkpoint of another model or space.
        """
        cfg = self.runner.cfg
        path = cfg.get('load_from') or (resumed or {}).get('supernet') or cfg.get('load_from_if_nothing_saved')
        if not path:
            raise ConfigError('the search needs a trained supernet: set load_from in the config or pass '
                              '--cfg-options load_from=<supernet checkpoint>')
        if resumed and osp.abspath(path) != osp.abspath(resumed['supernet']):
            raise ConfigError(f'the search to resume started from {resumed["supernet"]}, not {path}')
        state_dict = _load_checkpoint(path, map_location='cpu')
        state_dict = state_dict.get('state_dict', state_dict)
        mismatch = state_dict_mismatch(self.model.state_dict(), state_dict)
        if mismatch:
            raise ConfigError(f'{path} is not a checkpoint of this config\'s supernet ({type(self.model).__name__} '
                              f'with {len(self.layers)} searchable layers): {mismatch}')
        self.model.load_state_dict(state_dict)
        self.supernet = path

    def _span(self):
        bounds = self.cost_table.bounds()
        (macs_low, macs_high), (params_low, params_high) = bounds['flops'], bounds['params']
        return (f'{macs_low:.2f}..{macs_high:.2f} M MACs and {params_low:.3f}..{params_high:.3f} M params at input '
                f'{self.input_shape}')

    def _check_constraints_reachable(self):
        bounds = self.cost_table.bounds()
        for key, value in self.constraints_range.items():
            low, high = value if isinstance(value, (list, tuple)) else (0, value)
            space_low, space_high = bounds[key]
            if space_low > high or space_high < low:
                raise ConfigError(f'no subnet meets constraints_range {key}=({low}, {high}): the subnets of this '
                                  f'space have {space_low:.3f}..{space_high:.3f} M at input {self.input_shape}')

    def load_batches(self, dataloader, num_images):
        """A fixed, seeded subset of a dataloader's images, preprocessed once (:func:`load_fixed_batches`)."""
        return load_fixed_batches(dataloader, num_images, self.seed, self.data_preprocessor)

    def _prepare(self, resumed):
        self._load_supernet(resumed)
        if any(isinstance(m, torch.nn.SyncBatchNorm) for m in self.model.modules()):
            revert_sync_batchnorm(self.model)  # ranks score different candidates: no statistics across ranks
        self.cost_table = SubnetCostTable(classifier_of(self.model).backbone, self.input_shape)
        self._check_constraints_reachable()
        self.score.prepare(self.model, self.load_batches)
        self.score_batches = self.load_batches(self.dataloader, self.num_score_images)
        calibration = self.load_batches(self.calibrate_dataloader, self.calibrate_sample_num) \
            if self.calibrate_sample_num > 0 else []
        self.calibration_images = [b['inputs'][0] if isinstance(b['inputs'], list) else b['inputs']
                                   for b in calibration]
        self.runner.logger.info(
            f'Search: {self.score_name} on {self.num_score_images} held-out images, BN recalibrated on '
            f'{self.calibrate_sample_num} training images; {self._max_epochs} generations of {self.num_candidates}; '
            f'the space spans {self._span()}')

    # ---- the evolution ----------------------------------------------------------------------------------------
    def path(self, subnet):
        """The per-layer choices (model order) of a mutator subnet ``{group: choice}``."""
        return [subnet[group] for group in self._group_order]

    def _key(self, subnet):
        return format_subnet(self.path(subnet))

    def _keys(self, candidates):
        return [self._key(s) for s in candidates.subnets] if candidates.data else []

    def run(self):
        self.runner.call_hook('before_train')
        resumed = self._searcher_state()
        self._prepare(resumed)
        self._epoch = 0  # the runner's resume, if any, has set the supernet's epoch here
        self.candidates, self.top_k_candidates = Candidates(), Candidates()
        if resumed:
            self._resume(resumed)
        else:
            random.seed(self.seed)  # mmrazor's mutation and crossover draw from python's and numpy's generators
            np.random.seed(self.seed)
        while self._epoch < self._max_epochs:
            self.run_epoch()
            self._save_searcher_ckpt()
        self._save_best_fix_subnet()
        self.runner.call_hook('after_train')

    def run_epoch(self):
        """One generation: fill the population, score it, choose parents, breed the next population."""
        self._population = set(self._keys(self.top_k_candidates) + self._keys(self.candidates))
        self.sample_candidates()
        self.update_candidates_scores()
        pool = Candidates(self.candidates.data + self.top_k_candidates.data)
        self.top_k_candidates = Candidates([pool.data[i] for i in self._select_parents(pool)])
        best = max(self.records, key=lambda r: r['score'])
        self.runner.logger.info(f'Generation [{self._epoch + 1}/{self._max_epochs}]: parents\' scores '
                                f'{[round(s, 4) for s in self._values(self.top_k_candidates, "score")]}; best so '
                                f'far {best["subnet"]} {best["score"]:.4f}')
        self.runner.visualizer.add_scalars({'search/best_score': best['score'],
                                            'search/generation_best': max(self._values(self.candidates, 'score'))},
                                           step=self._epoch + 1)
        self._population = set(self._keys(self.top_k_candidates))
        next_population = Candidates(self.gen_mutation_candidates().data + self.gen_crossover_candidates().data)
        self.candidates = Candidates(_from_rank0(next_population.data))  # rank 0's draws for all
        self._epoch += 1

    @staticmethod
    def _values(candidates, key):
        return [value[key] for item in candidates.data for value in item.values()]

    def _select_parents(self, pool):
        scores, macs = self._values(pool, 'score'), self._values(pool, 'flops')
        if self.multi_objective:
            return nsga2_select([(-s, f) for s, f in zip(scores, macs)], self.top_k)
        return sorted(range(len(pool)), key=lambda i: -scores[i])[:self.top_k]  # stable: ties keep pool order

    def sample_candidates(self):
        """Fill the population with random subnets that meet the constraints and are not in it yet."""
        draws = 0
        while len(self.candidates) < self.num_candidates:
            if draws == self.max_draws:
                raise RuntimeError(
                    f'only {len(self.candidates)} of {self.num_candidates} candidates meet constraints_range '
                    f'{self.constraints_range} (or are new) after {draws} random draws; the space spans '
                    f'{self._span()}: widen the constraints or shrink num_candidates')
            draws += 1
            subnet = self.model.mutator.sample_choices()
            is_pass, resources = self._check_constraints(random_subnet=subnet)
            if is_pass:
                self.candidates.append({str(subnet): dict(resources, score=0.)})
        self.candidates = Candidates(_from_rank0(self.candidates.data))

    def _check_constraints(self, random_subnet):
        """Whether ``random_subnet`` meets the constraints and is new to the population (mutation and crossover
        call this too); its MACs and params come from the cost table."""
        resources = self.cost_table(self.path(random_subnet))
        for key, value in self.constraints_range.items():
            low, high = value if isinstance(value, (list, tuple)) else (0, value)
            if not low <= resources[key] <= high:
                return False, resources
        key = self._key(random_subnet)
        if key in self._population:
            return False, resources
        self._population.add(key)
        return True, resources

    def _score_candidate(self, subnet):
        self.model.mutator.set_choices(subnet)
        if hasattr(self.model, 'teacher_layers'):  # the teacher runs the candidate's path too
            apply_path(self.model.teacher_layers, self.path(subnet))
        with recalibrated_bn(self.score.networks(self.model), self.calibration_images), torch.no_grad():
            return self.score(self.model, self.score_batches)

    def update_candidates_scores(self):
        """Score the candidates not scored before; ranks split them and share the scores."""
        rank, world_size = get_dist_info()
        subnets = self.candidates.subnets
        todo = list(dict.fromkeys(self._key(s) for s in subnets if self._key(s) not in self.score_cache))
        by_key = {self._key(s): s for s in subnets}
        mine = todo[rank::world_size]
        scores = {}
        for index, key in enumerate(mine):
            start = time.perf_counter()
            scores[key] = self._score_candidate(by_key[key])
            resources = self.cost_table(self.path(by_key[key]))
            self.runner.logger.info(
                f'Generation [{self._epoch + 1}/{self._max_epochs}] candidate [{index + 1}/{len(mine)}]'
                + (f' of rank {rank}' if world_size > 1 else '') + f': {key}  MACs {resources["flops"]:.2f} M  '
                f'params {resources["params"]:.3f} M  {self.score_name} {scores[key]:.4f}  '
                f'({time.perf_counter() - start:.2f} s)')
        for shard in all_gather_object(scores):
            self.score_cache.update(shard)
        for index, subnet in enumerate(subnets):
            self.candidates.set_score(index, self.score_cache[self._key(subnet)])
        generation = [dict(generation=self._epoch + 1, subnet=self._key(s), choices=self.path(s),
                           **{k: list(item.values())[0][k] for k in ('score', 'flops', 'params')})
                      for s, item in zip(subnets, self.candidates.data)]
        self.records.extend(generation)
        if rank == 0:
            fileio.dump(generation, osp.join(self.runner.work_dir, f'search_generation_{self._epoch + 1}.json'),
                        indent=1)

    # ---- checkpoints and results ------------------------------------------------------------------------------
    def _settings(self):
        """What a resumed search must share with the one it continues (it may run more generations)."""
        return dict(seed=self.seed, score=self.score_cfg, calibrate_sample_num=self.calibrate_sample_num,
                    num_score_images=self.num_score_images, num_candidates=self.num_candidates, top_k=self.top_k,
                    num_mutation=self.num_mutation, num_crossover=self.num_crossover, mutate_prob=self.mutate_prob,
                    crossover_prob=self.crossover_prob, constraints_range=self.constraints_range,
                    multi_objective=self.multi_objective, input_shape=self.input_shape)

    def _save_searcher_ckpt(self):
        """After a generation: the next population, parents, scores and random states, for an exact resume."""
        if get_dist_info()[0] != 0:
            return
        state = dict(_epoch=self._epoch, candidates=self.candidates, top_k_candidates=self.top_k_candidates,
                     score_cache=self.score_cache, records=self.records, settings=self._settings(),
                     supernet=self.supernet,
                     random_state=random.getstate(), numpy_state=np.random.get_state())
        fileio.dump(state, osp.join(self.runner.work_dir, f'search_epoch_{self._epoch}.pkl'))
        for path in self._searcher_ckpts()[:-self.max_keep_ckpts] if self.max_keep_ckpts > 0 else []:
            fileio.remove(path)

    def _searcher_ckpts(self):
        paths = glob.glob(osp.join(self.runner.work_dir, 'search_epoch_*.pkl'))
        return sorted(paths, key=lambda p: int(_CHECKPOINT.search(p).group(1)))

    def _searcher_state(self):
        """The searcher checkpoint to continue from: ``resume_from`` or, with ``--resume``, the latest one."""
        path = self.resume_from
        if path is None and self.runner.cfg.get('resume'):
            path = (self._searcher_ckpts() or [None])[-1]
        if path is None:
            return None
        state = fileio.load(path)
        if state['settings'] != self._settings():
            raise ConfigError(f'{path} was written by a search with other settings:\n{state["settings"]}\n'
                              f'this one has\n{self._settings()}\nuse another work_dir or the same settings')
        state['path'] = path
        return state

    def _resume(self, state):
        for key in ('_epoch', 'candidates', 'top_k_candidates', 'score_cache', 'records'):
            setattr(self, key, state[key])
        random.setstate(state['random_state'])
        np.random.set_state(state['numpy_state'])
        self.runner.logger.info(f'Resumed the search from {state["path"]}: {self._epoch} of {self._max_epochs} '
                                'generations done')

    def pareto_front(self):
        """The scored candidates on the Pareto front of (score, MACs), by increasing MACs."""
        unique = list({r['subnet']: r for r in self.records}.values())
        front = non_dominated_sort([(-r['score'], r['flops']) for r in unique])[0]
        return sorted((unique[i] for i in front), key=lambda r: r['flops'])

    def _save_best_fix_subnet(self):
        """``best_fix_subnet.yaml`` (the highest score; fewer MACs break ties), the Pareto front and the plot."""
        if get_dist_info()[0] != 0:
            return
        best = min(self.records, key=lambda r: (-r['score'], r['flops']))
        work_dir = self.runner.work_dir
        front = self.pareto_front()
        fileio.dump(front, osp.join(work_dir, 'search_pareto_front.json'), indent=1)
        dump_subnet(best['choices'], classifier_of(self.model).backbone.layer_names,
                    osp.join(work_dir, 'best_fix_subnet.yaml'))
        plot_search(self.records, front, osp.join(work_dir, 'search.png'), self.score_name)
        self.runner.logger.info(f'Search finished. Best: {best["subnet"]} ({self.score_name} {best["score"]:.4f}, '
                                f'{best["flops"]:.2f} M MACs, {best["params"]:.3f} M params) in '
                                f'{work_dir}/best_fix_subnet.yaml; Pareto front ({len(front)} subnets) in '
                                'search_pareto_front.json, plot in search.png')
