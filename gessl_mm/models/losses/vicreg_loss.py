"""VICReg's variance-invariance-covariance loss."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class VICRegLoss(BaseModule):
    """Variance-invariance-covariance regularisation (Bardes et al. 2022).

    For embeddings Z, Z' (N, D) of two views::

        loss = sim_coeff * s(Z, Z') + std_coeff * (v(Z) + v(Z')) + cov_coeff * (c(Z) + c(Z'))

    with ``s`` the mean squared error, ``v(Z) = mean_j relu(gamma - sqrt(Var(z_j) + eps))``
    (unbiased variance over the batch) and ``c(Z)`` the sum of the squared off-diagonal
    entries of Z's covariance matrix (normalised by N - 1), divided by D. This is the
    paper's formula; the authors' released code halves the variance term, which
    ``std_coeff`` / 2 reproduces.

    Args:
        sim_coeff: weight of the invariance term (lambda).
        std_coeff: weight of the variance term (mu).
        cov_coeff: weight of the covariance term (nu).
        gamma: target standard deviation.
        eps: added to the variance before the square root.
        loss_weight: weight of the whole loss.
    """

    def __init__(self,
                 sim_coeff: float = 25.0,
                 std_coeff: float = 25.0,
                 cov_coeff: float = 1.0,
                 gamma: float = 1.0,
                 eps: float = 1e-4,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.sim_coeff = sim_coeff
        self.std_coeff = std_coeff
        self.cov_coeff = cov_coeff
        self.gamma = gamma
        self.eps = eps
        self.loss_weight = loss_weight

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        """The loss of two views' embeddings, each (N, D) with N >= 2."""
        if z1.dim() != 2 or z1.shape != z2.shape or z1.shape[0] < 2:
            raise ValueError('VICRegLoss expects two (N, D) embeddings with N >= 2, got '
                             f'{tuple(z1.shape)} and {tuple(z2.shape)}')
        invariance = F.mse_loss(z1, z2)
        variance = self.variance(z1) + self.variance(z2)
        covariance = self.covariance(z1) + self.covariance(z2)
        loss = (self.sim_coeff * invariance + self.std_coeff * variance +
                self.cov_coeff * covariance)
        return self.loss_weight * loss

    def variance(self, z: Tensor) -> Tensor:
        """Hinge on the standard deviation of every dimension, averaged."""
        std = torch.sqrt(z.var(dim=0) + self.eps)
        return F.relu(self.gamma - std).mean()

    @staticmethod
    def covariance(z: Tensor) -> Tensor:
        """Squared off-diagonal covariances, summed and divided by the dimension."""
        num, dim = z.shape
        z = z - z.mean(dim=0)
        cov = z.T @ z / (num - 1)
        off_diagonal = cov - torch.diag_embed(torch.diagonal(cov))
        return off_diagonal.pow(2).sum() / dim
