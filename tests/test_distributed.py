# Copyright (c) pinas_mm contributors. All rights reserved.
"""Pi-NAS under DDP: tools/dist_train.sh with 2 CPU processes (gloo) must train the same paths on every rank and
end with the same weights, teacher, queue and path generator; unsampled candidates keep no gradient."""
import json
import os
import os.path as osp
import subprocess
import sys


def test_two_ranks_train_the_same_paths_and_end_in_the_same_state(repo_root, mnist5k, tmp_path, free_port):
    config = tmp_path / 'probed_supernet.py'
    config.write_text(f"_base_ = ['{repo_root}/configs/pinas/supernet_mnist5k.py']\n"
                      "custom_imports = dict(imports=['pinas_mm', 'dist_probe'], allow_failed_imports=False)\n"
                      "custom_hooks = [dict(type='RankProbeHook')]\n")
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port,
               PYTHONPATH=os.pathsep.join([osp.dirname(__file__), os.environ.get('PYTHONPATH', '')]))
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(tmp_path), '--cfg-options',
         'train_cfg.max_epochs=1', f'train_dataloader.dataset.dataset.data_root={mnist5k}',
         'train_dataloader.batch_size=32', 'train_dataloader.dataset.dataset.indices=256',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False'], cwd=repo_root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "dist_cfg: {'backend': 'gloo'}" in log  # tools/train.py switched from NCCL: no GPU here
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # mmengine's words for world size 2
    rank0, rank1 = (json.loads((tmp_path / f'rank{r}.json').read_text()) for r in (0, 1))
    assert len(rank0['steps']) == 4  # 256 images, 2 ranks x 32 per step
    assert rank0['steps'] == rank1['steps']  # same paths at every step
    assert all(step['paths'][0] != step['paths'][1] for step in rank0['steps'])
    assert {grad for step in rank0['steps'] for grad in step['unsampled_grads']} == {'none'}
    # everything but the BN running statistics, which DDP keeps per rank (broadcast_buffers=False)
    differing = [key for key, digest in rank0['digest'].items() if rank1['digest'][key] != digest]
    assert differing and all(key.endswith(('running_mean', 'running_var')) for key in differing)
    assert any(key.startswith('encoder_k.') for key in rank0['digest']) and 'queue' in rank0['digest']


def test_closing_frees_the_group_with_the_model_that_holds_it(tmp_path):
    """A finished run's DDP model holds the process group in reference cycles: left to the interpreter's teardown,
    a gloo group's destructor can abort a finished rank; closing collects it first."""
    import gc
    import weakref

    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from pinas_mm.utils.launcher import close_process_group
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0, world_size=1)
    gc.disable()  # from here, only close_process_group collects
    try:
        model = DistributedDataParallel(torch.nn.Linear(2, 2))
        model.itself = model  # a reference cycle, as a runner's model and hooks make
        alive = weakref.ref(model)
        del model
        assert alive() is not None  # what a finished run leaves
        close_process_group()
    finally:
        gc.enable()
    assert alive() is None and not dist.is_initialized()
