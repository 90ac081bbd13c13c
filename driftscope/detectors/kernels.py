"""Kernel matrices and MMD² estimators as pure torch functions over kernel matrices.

In the spirit of alibi-detect's ``utils/pytorch/distance.py``: no classes, no global state.
"""

from __future__ import annotations

import numpy as np
import torch


def kernel(x: torch.Tensor, y: torch.Tensor, name: str, bandwidths: torch.Tensor) -> torch.Tensor:
    """Kernel matrix ``k(x_i, y_j)``, averaged over ``bandwidths`` (so ``k(x, x) = 1``).

    Built with one matrix product and in-place element-wise steps (few temporaries);
    out of place when a gradient is needed (the witness).
    """
    grad = x.requires_grad or y.requires_grad
    if name == "gaussian":
        base = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :]
        scales = [-1.0 / (2.0 * float(s) ** 2) for s in bandwidths]
        if len(scales) == 1 and not grad:  # fold the scale into the product: fewer passes
            c = scales[0]
            return torch.addmm(base.mul_(c), x, y.T, beta=1.0, alpha=-2.0 * c).clamp_max_(0).exp_()
        dist = torch.addmm(base, x, y.T, beta=1.0, alpha=-2.0).clamp_min(0.0)
    else:
        dist = torch.cdist(x, y, p=1.0)
        scales = [-1.0 / float(s) for s in bandwidths]
    if grad or len(scales) > 1:
        return torch.stack([torch.exp(dist * c) for c in scales]).mean(0)
    return dist.mul_(scales[0]).exp_()


def mmd2_unbiased(kxx: torch.Tensor, kyy: torch.Tensor, kxy: torch.Tensor) -> float:
    """Unbiased MMD² from the three kernel blocks (diagonals excluded)."""
    n, m = kxx.shape[0], kyy.shape[0]
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def linear_terms(x: torch.Tensor, y: torch.Tensor, name: str, bw: torch.Tensor) -> torch.Tensor:
    """The ``h`` terms of the linear-time MMD² estimator over consecutive pairs.

    ``x`` and ``y`` are ``(..., rows, features)``; leading dimensions batch permutations.
    """
    k = min(x.shape[-2], y.shape[-2]) // 2
    x1, x2 = x[..., 0 : 2 * k : 2, :], x[..., 1 : 2 * k : 2, :]
    y1, y2 = y[..., 0 : 2 * k : 2, :], y[..., 1 : 2 * k : 2, :]
    scales = [float(s) for s in bw]

    def diag(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if name == "gaussian":
            d = torch.square(a - b).sum(-1)
            return torch.stack([torch.exp(d * (-0.5 / (s * s))) for s in scales]).mean(0)
        d = (a - b).abs().sum(-1)
        return torch.stack([torch.exp(d * (-1.0 / s)) for s in scales]).mean(0)

    return diag(x1, x2) + diag(y1, y2) - diag(x1, y2) - diag(x2, y1)


def permutation_mmd2(
    z: torch.Tensor, n: int, assign: torch.Tensor, name: str, bw: torch.Tensor, max_mb: float
) -> torch.Tensor:
    """Unbiased MMD² for every column of ``assign`` (N×B, 1 = reference side) at once.

    ``aᵀKa``, ``aᵀK1`` and ``1ᵀK1`` give the three block sums of each permutation;
    the kernel matrix is built once, whole or row block by row block.
    """
    big_n = z.shape[0]
    m = big_n - n
    rows = max(1, int(max_mb * 2**20 / (big_n * z.element_size())))
    a_ka = torch.zeros(assign.shape[1], dtype=z.dtype, device=z.device)
    a_k1 = torch.zeros_like(a_ka)
    total = torch.zeros((), dtype=z.dtype, device=z.device)
    for start in range(0, big_n, rows):
        block = kernel(z[start : start + rows], z, name, bw)  # rows × N
        k1 = block.sum(1)
        ka = block @ assign  # rows × B
        a_rows = assign[start : start + rows]
        a_ka += (a_rows * ka).sum(0)
        a_k1 += (a_rows * k1[:, None]).sum(0)
        total += k1.sum()
    sxx = a_ka - n  # k(z, z) = 1 on the diagonal
    syy = total - 2 * a_k1 + a_ka - m
    sxy = a_k1 - a_ka
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m)


def median_heuristic(x: np.ndarray, name: str, rng: np.random.Generator, cap: int = 1000) -> float:
    """Median pairwise distance (Euclidean for gaussian, L1 for laplacian) of ≤ cap rows."""
    if len(x) > cap:
        x = x[rng.choice(len(x), cap, replace=False)]
    t = torch.from_numpy(x)
    d = torch.cdist(t, t, p=2.0 if name == "gaussian" else 1.0)
    iu = torch.triu_indices(len(x), len(x), offset=1)
    vals = d[iu[0], iu[1]]
    med = float(vals.median()) if vals.numel() else 1.0
    return med if med > 0 else 1.0


def kernel_sum(
    x: torch.Tensor, y: torch.Tensor, name: str, bw: torch.Tensor, max_mb: float
) -> float:
    """Sum of the kernel matrix between ``x`` and ``y``, in row blocks of ≤ ``max_mb``."""
    rows = max(1, int(max_mb * 2**20 / (len(y) * y.element_size())))
    return float(
        sum(float(kernel(x[s : s + rows], y, name, bw).sum()) for s in range(0, len(x), rows))
    )
