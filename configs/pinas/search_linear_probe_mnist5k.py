# Evolutionary search of the scaled-down Pi-NAS supernet scored as the official search scores: each candidate
# BN-recalibrated on 512 training digits, then scored by the top-1 (%) of the linear probe (linear_probe_mnist5k.py)
# on 512 held-out digits, with the search settings of spos_search_mnist5k.py.
#   python tools/train.py configs/pinas/search_linear_probe_mnist5k.py --work-dir work_dirs/search_linear_probe_mnist5k
_base_ = ['./spos_search_mnist5k.py']

load_from = 'work_dirs/linear_probe_mnist5k/epoch_10.pth'  # tools/train.py configs/pinas/linear_probe_mnist5k.py
model = dict(architecture=dict(backbone=dict(norm_cfg=dict(type='SplitBN', num_splits=8))))  # the probe's supernet
