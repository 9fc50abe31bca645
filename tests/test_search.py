# Copyright (c) pinas_mm contributors. All rights reserved.
"""The search loop end to end on the scaled-down space: its outputs, constraints, NSGA-II mode, exact resume after
kill -9, two ranks agreeing with one, and clear errors at start-up."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from pinas_mm.engine.runner.pareto import dominates
from pinas_mm.structures import format_subnet, parse_subnet
from conftest import build_from_config

GENERATIONS = 3


def write_config(path, repo_root, mnist5k, checkpoint, base='search_mnist5k.py', **settings):
    """A small search on the shipped config: 3 generations of 6 candidates, 32 images each."""
    settings = dict(dict(calibrate_sample_num=32, num_score_images=32, max_epochs=GENERATIONS, num_candidates=6,
                         top_k=2, num_mutation=2, num_crossover=2), **settings)
    data = f"dict(dataset=dict(data_root='{mnist5k}'), batch_size=16)"
    path.write_text(f"_base_ = ['{repo_root}/configs/pinas/{base}']\nload_from = '{checkpoint}'\n"
                    f'train_cfg = dict(dataloader={data}, calibrate_dataloader={data}, **{settings!r})\n')
    return str(path)


def search(config, work_dir, **options):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.work_dir = str(work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def generations(work_dir):
    return [json.loads((work_dir / f'search_generation_{g}.json').read_text()) for g in range(1, GENERATIONS + 1)]


def command(config, work_dir, *extra):
    return [sys.executable, 'tools/train.py', config, '--work-dir', str(work_dir), *extra]


# one thread per process, as torchrun sets: scores then match bitwise across runs, not only to float rounding
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS='1')


@pytest.fixture(scope='module')
def uninterrupted(repo_root, mnist5k, pinas_checkpoint, tmp_path_factory):
    """One whole search in its own process: the reference of the distributed and scoring tests (a search killed and
    resumed: tests/test_fault_injection.py)."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    config = write_config(work_dir / 'search.py', repo_root, mnist5k, pinas_checkpoint)
    subprocess.run(command(config, work_dir), cwd=repo_root, env=ONE_THREAD, check=True, capture_output=True)
    return config, work_dir


@pytest.mark.parametrize('multi_objective', [False, True])
def test_search_outputs_respect_constraints_and_leave_the_supernet_as_loaded(repo_root, mnist5k, pinas_checkpoint,
                                                                            tmp_path, multi_objective):
    config = write_config(tmp_path / 'search.py', repo_root, mnist5k, pinas_checkpoint, multi_objective=multi_objective,
                          constraints_range=dict(flops=(0, 3.85)))  # the space spans 3.69..3.97 M MACs at 32x32
    runner = search(config, tmp_path)
    records = [r for generation in generations(tmp_path) for r in generation]
    assert all(len(generation) == 6 and len({r['subnet'] for r in generation}) == 6
               for generation in generations(tmp_path))
    assert all(r['flops'] <= 3.85 for r in records)
    best = max(records, key=lambda r: r['score'])
    layers = runner.model.backbone.layer_names
    assert format_subnet(parse_subnet(str(tmp_path / 'best_fix_subnet.yaml'), layers, list('0123'))) == best['subnet']

    front = json.loads((tmp_path / 'search_pareto_front.json').read_text())
    point = {r['subnet']: (-r['score'], r['flops']) for r in records}
    assert best['subnet'] in {r['subnet'] for r in front}
    for member in front:  # nothing dominates the front; the front dominates everything else
        assert not any(dominates(p, point[member['subnet']]) for p in point.values())
    others = set(point) - {r['subnet'] for r in front}
    assert all(any(dominates(point[m['subnet']], point[s]) for m in front) for s in others)
    assert osp.getsize(tmp_path / 'search.png') > 10000

    # BN recalibration and path setting leave the supernet's weights and statistics as loaded
    loaded = torch.load(pinas_checkpoint, weights_only=False)['state_dict']
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, loaded[key]), key


def test_two_ranks_split_the_scoring_and_find_what_one_finds(repo_root, uninterrupted, tmp_path, free_port):
    config, reference = uninterrupted
    env = dict(ONE_THREAD, PYTHON=sys.executable, PORT=free_port)
    result = subprocess.run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(tmp_path)], cwd=repo_root,
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    logged = (result.stdout + result.stderr).count('Generation [1/3] candidate')  # rank 0 logs its own share
    assert logged == 3 and 'of rank 0' in result.stdout + result.stderr
    assert generations(tmp_path) == generations(reference)
    assert (tmp_path / 'best_fix_subnet.yaml').read_text() == (reference / 'best_fix_subnet.yaml').read_text()


def test_mixpath_spos_supernet_is_searched_with_its_classifier(repo_root, mnist5k, tmp_path):
    """MixPath (sets of candidates per layer, numpy 2 through mmrazor's mutator) with the supervised score."""
    checkpoint = tmp_path / 'spos.pth'
    options = {'model.architecture.backbone.max_paths': 2}
    model = build_from_config('configs/pinas/spos_supernet_mnist5k.py', **options)
    torch.save(dict(state_dict=model.state_dict(), meta={}), checkpoint)
    config = write_config(tmp_path / 'search.py', repo_root, mnist5k, checkpoint, base='spos_search_mnist5k.py',
                          max_epochs=1)
    search(config, tmp_path, **options)
    records = json.loads((tmp_path / 'search_generation_1.json').read_text())
    assert any(len(choice) == 2 for r in records for choice in r['choices'])
    assert all(0 <= r['score'] <= 100 for r in records)


def test_knn_score_searches_with_labelled_held_out_images(repo_root, mnist5k, pinas_checkpoint, tmp_path):
    config = write_config(tmp_path / 'search.py', repo_root, mnist5k, pinas_checkpoint, base='search_knn_mnist5k.py',
                          max_epochs=1)
    search(config, tmp_path, **{'train_cfg.score.bank_dataloader.dataset.data_root': mnist5k,
                                'train_cfg.score.num_bank_images': 64})
    scores = [r['score'] for r in json.loads((tmp_path / 'search_generation_1.json').read_text())]
    assert all(0 <= s <= 100 for s in scores) and max(scores) > 20  # untrained, yet far above chance (10 %)


@pytest.mark.parametrize('settings, options, error, message', [
    (dict(), {'load_from': None}, ValueError, 'needs a trained supernet'),
    (dict(), {'model.backbone.stage_blocks': (1, 1, 1, 1)}, ValueError, 'not a checkpoint of this config'),
    (dict(constraints_range=dict(flops=(0, 1.))), {}, ValueError, r'no subnet meets constraints_range flops=\(0, 1'),
    (dict(constraints_range=dict(flops=(3.8, 3.8001)), max_draws=50), {}, RuntimeError, 'after 50 random draws'),
    (dict(score=dict(type='Accuracy')), {}, KeyError, 'registered scores'),
    (dict(score=dict(type='AccuracyScore')), {}, TypeError, 'classification head'),
])
def test_bad_input_is_refused_at_start_up(repo_root, mnist5k, pinas_checkpoint, tmp_path, settings, options, error,
                                          message):
    config = write_config(tmp_path / 'search.py', repo_root, mnist5k, pinas_checkpoint, **settings)
    with pytest.raises(error, match=message):
        search(config, tmp_path, **options)
    assert not (tmp_path / 'search_generation_1.json').exists()


def test_resuming_with_other_settings_is_refused(repo_root, mnist5k, pinas_checkpoint, tmp_path):
    search(write_config(tmp_path / 'a.py', repo_root, mnist5k, pinas_checkpoint, max_epochs=1), tmp_path)
    with pytest.raises(ValueError, match='other settings'):
        search(write_config(tmp_path / 'b.py', repo_root, mnist5k, pinas_checkpoint, top_k=3), tmp_path, resume=True,
               load_from=None)  # as tools/train.py --resume does


def test_given_subnets_are_scored_as_the_search_scored_them(repo_root, uninterrupted, tmp_path):
    """SubnetScoreLoop (the supernet's ranking of a list of subnets, for tools/rank_correlation.py) reuses the
    search's scoring: same score, BN recalibration and images, hence the same value for a subnet the search met."""
    config, reference = uninterrupted
    searched = {r['subnet']: r['score'] for generation in generations(reference) for r in generation}
    found = sorted(searched)[:3]
    listed = [found[0], ' '.join(found[1]), found[2]]  # the second in another accepted form: kept as given
    (tmp_path / 'subnets.json').write_text(json.dumps([dict(subnet=s) for s in listed] + [dict(subnet=listed[0])]))
    result = subprocess.run(command(config, tmp_path, '--cfg-options', 'train_cfg.type=SubnetScoreLoop',
                                    f'train_cfg.subnets={tmp_path / "subnets.json"}'),
                            cwd=repo_root, env=ONE_THREAD, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    scored = json.loads((tmp_path / 'subnet_scores.json').read_text())
    assert [r['subnet'] for r in scored] == listed  # listed once each, in order
    assert all(r['score'] == searched[s] and r['flops'] > 0 for r, s in zip(scored, found))


def test_a_listed_subnet_outside_the_space_is_refused_naming_its_layer(repo_root, mnist5k, pinas_checkpoint,
                                                                          tmp_path):
    config = write_config(tmp_path / 'search.py', repo_root, mnist5k, pinas_checkpoint)
    with pytest.raises(ValueError, match=r"layer layer3.1: unknown candidate '7'"):
        search(config, tmp_path, **{'train_cfg.type': 'SubnetScoreLoop', 'train_cfg.subnets': ['31203', '31273']})
