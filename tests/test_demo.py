# Copyright (c) pinas_mm contributors. All rights reserved.
"""README command A, shortened (--quick): every stage of the pipeline runs, the summary holds every backbone, a second
run keeps the finished stages' results, an interrupted one continues only with --resume, damaged data is named."""
import os
import subprocess
import sys


def test_quick_demo_runs_every_stage_keeps_finished_ones_and_resumes_when_asked(repo_root, tmp_path):
    demo = tmp_path / 'demo'
    command = [sys.executable, 'tools/run_demo.py', '--quick', '--work-dir', str(demo), '--data-root',
               str(tmp_path / 'data')]

    def run(*extra):
        return subprocess.run(command + list(extra), cwd=repo_root, capture_output=True, text=True)

    result = run()
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert 'job 15/15 predictions: deeplab' in result.stdout  # the progress line of the last job
    summary = (demo / 'summary.md').read_text()
    assert summary in result.stdout
    for title in ('Pi-NAS search (no labels)', 'random subnet', 'SPOS search (supervised baseline)'):
        assert title in summary
    assert 'nan' not in summary.split('| backbone')[1].split('Stage times')[0]  # every AP and mIoU was measured
    for name in ('supernet_loss.png', 'pinas_search/search.png', 'spos_search/search.png', 'export/pinas.pth',
                 'export/spos.yaml'):
        assert (demo / name).exists(), name
    for task in ('mask_rcnn', 'deeplab'):
        assert len(list((demo / 'predictions' / task / 'vis_data' / 'vis_image').glob('*.png'))) == 4, task

    finished = {p: os.path.getmtime(p) for p in demo.rglob('*.pth') if 'deeplab_spos' not in str(p)}
    (demo / 'transfer' / 'deeplab_spos' / 'done').unlink()  # job 13, as if killed after its last checkpoint
    refused = run()
    assert refused.returncode != 0 and 'deeplab_spos was interrupted' in refused.stderr and '--resume' in refused.stderr
    assert refused.stdout.count('done before') == 12, refused.stderr[-3000:]  # the jobs before it kept
    resumed = run('--resume')
    assert resumed.returncode == 0 and (demo / 'transfer' / 'deeplab_spos' / 'done').exists(), resumed.stderr[-3000:]
    assert 'resumed epoch' in resumed.stdout + resumed.stderr and resumed.stdout.count('done before') == 14
    assert {p: os.path.getmtime(p) for p in finished} == finished  # no other job retrained or overwritten

    digit = next((tmp_path / 'data' / 'mnist5k' / 'val' / '7').iterdir())
    with open(digit, 'ab') as f:
        f.write(b'damage')
    damaged = run()
    assert damaged.returncode != 0 and f'{digit} is changed' in damaged.stderr
    assert f'python tools/dataset_converters/prepare_mnist5k.py {tmp_path}/data/mnist5k --rebuild' in damaged.stderr
