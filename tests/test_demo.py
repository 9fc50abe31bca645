# Copyright (c) pinas_mm contributors. All rights reserved.
"""README command A, shortened (--quick): every stage of the pipeline runs, the summary holds every backbone, and a
second run keeps the finished stages' results."""
import os
import subprocess
import sys


def test_quick_demo_runs_every_stage_and_keeps_finished_ones(repo_root, tmp_path):
    command = [sys.executable, 'tools/run_demo.py', '--quick', '--work-dir', str(tmp_path / 'demo'), '--data-root',
               str(tmp_path / 'data')]
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    summary = (tmp_path / 'demo' / 'summary.md').read_text()
    for title in ('Pi-NAS search (no labels)', 'random subnet', 'SPOS search (supervised baseline)'):
        assert title in summary
    assert 'nan' not in summary.split('| backbone')[1].split('Stage times')[0]  # every AP and mIoU was measured
    for name in ('supernet_loss.png', 'pinas_search/search.png', 'export/pinas.pth', 'export/spos.yaml'):
        assert (tmp_path / 'demo' / name).exists(), name

    finished = {p: os.path.getmtime(p) for p in (tmp_path / 'demo').rglob('*.pth')}
    again = subprocess.run(command, cwd=repo_root, capture_output=True, text=True)
    assert again.returncode == 0 and 'done before' in again.stdout, again.stderr[-3000:]
    assert {p: os.path.getmtime(p) for p in finished} == finished  # nothing retrained or overwritten
