"""Hypergradient methods against closed forms and against each other (float64)."""
import pytest
import torch
from torch import nn
from torch.func import functional_call

from gessl_mm.engine.hypergradients import hypergradient

pytestmark = pytest.mark.unit

DIM = 6
ALPHA = 0.1


@pytest.fixture
def quadratic():
    """Inner 0.5 p'Ap - b'p (A SPD, ||alpha A|| < 1) and outer 0.5 (p - c)'Q(p - c)."""
    g = torch.Generator().manual_seed(0)
    m = torch.randn(DIM, DIM, generator=g, dtype=torch.float64)
    a = m @ m.T / DIM + 0.5 * torch.eye(DIM, dtype=torch.float64)
    a = a / torch.linalg.matrix_norm(a, 2) * 4.0  # ||A|| = 4, alpha ||A|| = 0.4
    q = torch.diag(torch.linspace(0.5, 2.0, DIM, dtype=torch.float64))
    b, c, theta = (torch.randn(DIM, generator=g, dtype=torch.float64) for _ in range(3))

    def inner(p):
        x = p['x']
        return 0.5 * x @ a @ x - b @ x

    def outer(p):
        d = p['x'] - c
        return 0.5 * d @ q @ d

    return dict(a=a, q=q, b=b, c=c, theta=theta, inner=inner, outer=outer)


def _params(theta):
    return {'x': theta.clone().requires_grad_(True)}


def _closed_form_unrolled(qd, k):
    """d F(phi_K) / d theta for phi_{j+1} = M phi_j + alpha b, M = I - alpha A."""
    eye = torch.eye(DIM, dtype=torch.float64)
    m = eye - ALPHA * qd['a']
    phi = qd['theta'].clone()
    for _ in range(k):
        phi = m @ phi + ALPHA * qd['b']
    return torch.linalg.matrix_power(m, k).T @ (qd['q'] @ (phi - qd['c'])), phi


@pytest.mark.parametrize('k', [1, 2, 3])
def test_reverse_equals_closed_form(quadratic, k):
    expected, _ = _closed_form_unrolled(quadratic, k)
    got = hypergradient('reverse', _params(quadratic['theta']), quadratic['inner'],
                        quadratic['outer'], ALPHA, k)['x']
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('k', [1, 2, 3])
def test_finite_diff_matches_reverse(quadratic, k):
    exact = hypergradient('reverse', _params(quadratic['theta']), quadratic['inner'],
                          quadratic['outer'], ALPHA, k)['x']
    approx = hypergradient('finite_diff', _params(quadratic['theta']), quadratic['inner'],
                           quadratic['outer'], ALPHA, k, eps=1e-3)['x']
    assert torch.linalg.norm(approx - exact) / torch.linalg.norm(exact) < 1e-5


def test_first_order_is_outer_gradient_at_adapted_point(quadratic):
    _, phi = _closed_form_unrolled(quadratic, 2)
    got = hypergradient('first_order', _params(quadratic['theta']), quadratic['inner'],
                        quadratic['outer'], ALPHA, 2)['x']
    torch.testing.assert_close(got, quadratic['q'] @ (phi - quadratic['c']))


def _implicit_solution(qd, k):
    _, phi = _closed_form_unrolled(qd, k)
    eye = torch.eye(DIM, dtype=torch.float64)
    return torch.linalg.solve(eye + ALPHA * qd['a'], qd['q'] @ (phi - qd['c']))


def test_cg_solves_proximal_system(quadratic):
    got = hypergradient('cg', _params(quadratic['theta']), quadratic['inner'],
                        quadratic['outer'], ALPHA, 1, iters=DIM)['x']
    expected = _implicit_solution(quadratic, 1)
    assert torch.linalg.norm(got - expected) / torch.linalg.norm(expected) < 1e-6


def test_neumann_converges_as_terms_grow(quadratic):
    expected = _implicit_solution(quadratic, 1)
    errors = []
    for terms in (1, 4, 16, 64):
        got = hypergradient('neumann', _params(quadratic['theta']), quadratic['inner'],
                            quadratic['outer'], ALPHA, 1, terms=terms)['x']
        errors.append((torch.linalg.norm(got - expected) / torch.linalg.norm(expected)).item())
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < 1e-8


def test_partially_adapted_parameters_get_mixed_terms():
    """Only 'w' adapts; 'u' must still receive d F / d u through the inner step."""
    g = torch.Generator().manual_seed(1)
    cross = torch.randn(3, 3, generator=g, dtype=torch.float64)
    w0, u0, c = (torch.randn(3, generator=g, dtype=torch.float64) for _ in range(3))

    def inner(p):
        return 0.5 * (p['w']**2).sum() + p['w'] @ cross @ p['u'] + (p['u']**4).sum()

    def outer(p):
        return ((p['w'] - c)**2).sum() + (p['u']**2).sum() * (p['w']**2).sum()

    def run(method, **kw):
        params = {'w': w0.clone().requires_grad_(), 'u': u0.clone().requires_grad_()}
        return hypergradient(method, params, inner, outer, 0.3, 2, adapted=['w'], **kw)

    exact = run('reverse')
    approx = run('finite_diff', eps=1e-4)
    first = run('first_order')
    for name in ('w', 'u'):
        err = torch.linalg.norm(approx[name] - exact[name]) / torch.linalg.norm(exact[name])
        assert err < 1e-6, name
    # The mixed term is not negligible here, so first order differs from the exact result.
    assert not torch.allclose(first['u'], exact['u'], rtol=1e-3)


class TinyConvNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(torch.tanh(self.conv(x)).mean((2, 3)))


def test_finite_diff_matches_reverse_on_conv_net():
    torch.manual_seed(0)
    net = TinyConvNet().double()
    x_in, x_out = torch.randn(2, 8, 3, 8, 8, dtype=torch.float64)
    y_in, y_out = torch.randint(0, 5, (2, 8))

    def inner(p):
        return nn.functional.cross_entropy(functional_call(net, p, (x_in, )), y_in)

    def outer(p):
        return nn.functional.cross_entropy(functional_call(net, p, (x_out, )), y_out)

    def run(method, **kw):
        params = {n: t.detach().clone().requires_grad_() for n, t in net.named_parameters()}
        return hypergradient(method, params, inner, outer, 0.5, 2, **kw)

    exact, approx = run('reverse'), run('finite_diff', eps=1e-4)
    flat = lambda d: torch.cat([v.flatten() for v in d.values()])  # noqa: E731
    rel = torch.linalg.norm(flat(approx) - flat(exact)) / torch.linalg.norm(flat(exact))
    assert rel < 1e-3
    # and the second-order part matters: first order is measurably different
    first = run('first_order')
    assert torch.linalg.norm(flat(first) - flat(exact)) / torch.linalg.norm(flat(exact)) > 1e-3


def test_unknown_method_and_option_are_named(quadratic):
    with pytest.raises(ValueError, match="hypergrad.type='newton'"):
        hypergradient('newton', _params(quadratic['theta']), quadratic['inner'],
                      quadratic['outer'], ALPHA, 1)


def test_forward_difference_reuses_inner_gradients():
    """scheme='forward': one gradient per Hessian-vector product, the inner step's reused;
    first-order accurate in eps (mixed terms of a non-adapted parameter included)."""
    from gessl_mm.engine.hypergradients import gradient_descent

    g = torch.Generator().manual_seed(2)
    cross = torch.randn(3, 3, generator=g, dtype=torch.float64)
    w0, u0, c = (torch.randn(3, generator=g, dtype=torch.float64) for _ in range(3))
    calls = []

    def inner(p):
        calls.append(1)
        return 0.5 * (p['w']**2).sum() + (p['w']**3).sum() / 3 + p['w'] @ cross @ p['u']

    def outer(p):
        return ((p['w'] - c)**2).sum() + (p['u']**2).sum()

    def params():
        return {'w': w0.clone().requires_grad_(), 'u': u0.clone().requires_grad_()}

    exact = hypergradient('reverse', params(), inner, outer, 0.3, 2, adapted=['w'])
    errors = {}
    for eps in (1e-2, 1e-4):
        theta = params()
        trajectory = gradient_descent(theta, inner, 0.3, 2, ['w'], keep_grads=True)
        assert set(trajectory.grads[0]) == {'w', 'u'}
        calls.clear()
        got = hypergradient('finite_diff', theta, inner, outer, 0.3, 2, adapted=['w'],
                            trajectory=trajectory, eps=eps, scheme='forward')
        assert len(calls) == 2  # one evaluation per inner step (central would take 4)
        errors[eps] = max((torch.linalg.norm(got[n] - exact[n]) /
                           torch.linalg.norm(exact[n])).item() for n in ('w', 'u'))
    assert errors[1e-4] < 1e-3 < errors[1e-2]
    assert errors[1e-4] < errors[1e-2] / 50  # O(eps) convergence

    with pytest.raises(ValueError, match="hypergrad.scheme='backward'"):
        hypergradient('finite_diff', params(), inner, outer, 0.3, 1, scheme='backward')
