# Copyright (c) pinas_mm contributors. All rights reserved.
"""benchmarks/run_all.py --quick: the cheapest benchmark runs into the folder given and is summarised there."""
import re
import subprocess
import sys


def test_run_all_quick(repo_root, tmp_path):
    command = [sys.executable, 'benchmarks/run_all.py', '--quick', '--only', 'search_candidate_cost', '--results-dir',
               str(tmp_path)]  # about 35 s on 2 CPU cores
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {path.name for path in tmp_path.iterdir()} == {'search_candidate_cost.json', 'search_candidate_cost.md',
                                                          'summary.md'}
    summary = (tmp_path / 'summary.md').read_text()
    for setting in ('scaled-down', 'full-size'):  # a row per setting, with its ratio
        assert re.search(rf'^\| search_candidate_cost \| {setting} \| [^|]+ \| \d+\.\d{{3}} \|', summary, re.M), summary
    assert '--reps 1 --subnets 1' in summary  # the command that made the results file
