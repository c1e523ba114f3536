"""A fast linear probe on frozen features (multinomial logistic regression)."""
from torch import Tensor


def linear_probe_accuracy(train: Tensor, train_labels: Tensor, test: Tensor,
                          test_labels: Tensor, c: float = 1.0, max_iter: int = 2000) -> float:
    """Accuracy of an L2-regularised logistic regression on standardised features.

    A quick stand-in for the paper's SGD linear evaluation (its configs are in
    ``configs/benchmarks/linear_probe``), used where a probe runs every epoch.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    probe.fit(train.numpy(), train_labels.numpy())
    return float(probe.score(test.numpy(), test_labels.numpy()))
