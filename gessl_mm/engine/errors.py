"""The errors that stop GeSSL's training before a bad outer update reaches the weights."""


class NonFiniteError(FloatingPointError):
    """A loss or hypergradient is NaN or infinite; the weights were not updated."""


class HypergradientError(NonFiniteError):
    """The implicit hypergradient's linear solve diverged or is ill-posed at this inner lr.

    Raised by ``neumann`` (a Neumann series whose terms grow) and ``cg`` (an indefinite or
    near-singular ``I + alpha H``) instead of returning a finite but meaningless vector; the
    weights were not updated. A subclass of :class:`NonFiniteError`, so whatever handles a
    non-finite loss handles it too.
    """
