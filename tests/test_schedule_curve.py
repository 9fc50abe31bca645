# Copyright (c) pinas_mm contributors. All rights reserved.
"""benchmarks/ranking/schedule_curve.py: the points it gathers from the stored files of each schedule length, the
target it states, and its plot; and supernets.py's options for another length or batch."""
import json

import pytest


@pytest.fixture
def curve(repo_root, monkeypatch):
    monkeypatch.syspath_prepend(f'{repo_root}/benchmarks/ranking')
    monkeypatch.syspath_prepend(f'{repo_root}/benchmarks')
    import schedule_curve
    return schedule_curve


def store_point(folder, epochs, taus, batch=None):
    """The files supernets.py and embeddings.py write for one schedule length, with given taus per method."""
    rows = {method: dict(seeds=[0, 1], kendall_tau=dict(mean=sum(t) / 2, per_seed=t, ci95=[-1, 1]),
                         partial_tau_given_macs=sum(t) / 4) for method, t in taus.items()}
    rows['stand-alone, another seed (noise ceiling)'] = dict(kendall_tau=dict(mean=0.446, per_seed=[0.446]))
    (folder / f'ranking_v9_e{epochs}.json').write_text(json.dumps(dict(rows=rows)))
    records = [dict(method=m, seed=s, spec=dict(epochs=epochs, **({'batch': batch} if batch else {})))
               for m in taus for s in (0, 1)]
    (folder / f'supernet_scores_v9_e{epochs}.json').write_text(json.dumps(dict(records=records)))
    figures = [dict(method=m, seed=s, residual_bn_scale=0.01 * epochs + s, backbone_cos_between_paths=0.99,
                    knn_top1=40.) for m in ('Pi-NAS', 'SPOS') for s in (0, 1)]
    (folder / f'embeddings_v9_e{epochs}.json').write_text(json.dumps(dict(records=figures)))


def test_points_of_every_stored_length_with_their_learning_figures(curve, tmp_path):
    store_point(tmp_path, 10, {'Pi-NAS': [0.1, 0.3], 'SPOS': [0.3, 0.3], 'Pi-NAS, kNN score': [0.0, 0.2]})
    store_point(tmp_path, 100, {'Pi-NAS': [0.5, 0.45], 'SPOS': [0.4, 0.4]}, batch=512)
    points = curve.gather(str(tmp_path), 'v9', curve.METHODS)
    pinas = {p['epochs']: p for p in points if p['method'] == 'Pi-NAS'}
    assert sorted(pinas) == [10, 100] and pinas[100]['batch'] == 512 and pinas[10]['batch'] is None
    assert pinas[10]['tau'] == pytest.approx(0.2) and pinas[10]['tau_per_seed'] == [0.1, 0.3]
    knn = next(p for p in points if p['method'] == 'Pi-NAS, kNN score')
    assert knn['residual_bn_scale'] == pytest.approx(0.6)  # the Pi-NAS supernet it scores with, mean of 2 seeds
    table = curve.write_table(points, type('Args', (), dict(space='widths', task='cluttered', version='v9',
                                                              standalone=str(tmp_path / 'standalone.json'),
                                                              methods=curve.METHODS))())
    assert 'Target at the longest schedule reached (100 epochs)' in table and ': met (0.475 vs SPOS 0.400)' in table
    assert '| 100 | Pi-NAS | 512 | 0.475 | 0.500, 0.450 | 0.237 |' in table  # what it ranks beyond MACs
    curve.plot(points, curve.METHODS, str(tmp_path / 'curve.png'))
    assert (tmp_path / 'curve.png').stat().st_size > 1000


def test_options_for_another_length_and_batch_keep_the_per_image_rate(repo_root, monkeypatch):
    monkeypatch.syspath_prepend(f'{repo_root}/benchmarks/ranking')
    monkeypatch.syspath_prepend(f'{repo_root}/benchmarks')
    import supernets
    pinas, spos, probe = (supernets.METHODS[m] for m in ('Pi-NAS', 'SPOS', 'Pi-NAS, linear-probe score'))
    assert supernets.schedule_options(pinas, 30) == ['train_cfg.max_epochs=30', 'param_scheduler.0.T_max=30',
                                                     'param_scheduler.0.end=30']
    assert supernets.schedule_options(spos, 30)[1] == 'param_scheduler.T_max=30'
    assert supernets.schedule_options(probe, 30) == []  # a probe keeps its own schedule
    options = supernets.batch_options(pinas, 512)
    assert options == ['train_dataloader.batch_size=512', f'optim_wrapper.optimizer.lr={0.03 * 512 / 192}',
                       'model.backbone.norm_cfg.num_splits=64']  # 8 images a BN slice, as at 64
