# GeSSL in the CPU-scale CIFAR-10 protocol (_base_/datasets/cifar10-10k_ssl.py), shared by
# configs/<method>/<method>-gessl_resnet18-narrow_1xb32-10e_cifar10-10k.py.
#
# These start from the digits study's choice (./gessl_digits.py, reasons there): the
# prototype task head, KL + the SSL loss at theta (ssl_loss_weight 1), `reverse`
# hypergradient, alpha 0.3, beta 0.05, K = 1, lambda = 10, B = 16, n = 2 (one outer update
# per batch of 32), clip_grad 10, the heads-only inner loop (`inner_params`, set per method),
# 2 views. The CIFAR-10 study (tools/analysis/studies/cifar10/) screens them on the
# `val` split; the values it chooses go here. The paper's own defaults are
# ./gessl_paper.py; the paper-scale configs use ./gessl.py, the same choice at n = 8.
_base_ = './gessl_digits.py'
