"""``first_order``: the outer gradient at the adapted weights, applied to theta."""
from .base import HYPERGRADIENTS, BaseHypergradient


@HYPERGRADIENTS.register_module('first_order')
class FirstOrderHypergradient(BaseHypergradient):
    """``dF/dphi`` at ``phi_K`` as the hypergradient (first-order MAML); no second-order
    terms, one backward pass."""

    def through_inner_steps(self, v, fixed, names, inner_loss_fn, inner_lr, trajectory):
        return v
