"""``reverse`` (ITD-RMAD): backpropagation through the unrolled inner steps."""
from .base import HYPERGRADIENTS, BaseHypergradient, HypergradientResult, timestamp
from .inner_loop import grads_of


@HYPERGRADIENTS.register_module('reverse')
class ReverseHypergradient(BaseHypergradient):
    """The exact hypergradient: the inner steps keep their graph, and one backward pass
    from ``F(phi_K)`` reaches theta through all of them (memory grows with K)."""
    differentiates_inner_steps = True

    def __call__(self, params, inner_loss_fn, outer_fn, inner_lr, trajectory):
        if not trajectory.create_graph:
            raise ValueError("hypergrad 'reverse' needs the inner steps' graph: run "
                             'gradient_descent(..., create_graph=True)')
        loss, aux = outer_fn(trajectory.final)
        grads = grads_of(loss, params, list(params))
        return HypergradientResult(grads, loss.detach(), aux, timestamp(loss))
