import pytest

from gessl_mm.utils import DoublingRateLimit

pytestmark = pytest.mark.unit


def test_reports_at_powers_of_two_and_counts_every_occurrence():
    limit = DoublingRateLimit()
    reported = [n for n in range(1, 40) if limit.record()]
    assert reported == [1, 2, 4, 8, 16, 32]
    assert limit.count == 39
