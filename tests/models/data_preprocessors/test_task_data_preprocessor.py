"""TaskDataPreprocessor: a batch of views split into tasks, bad batches named."""
import pytest
import torch
from helpers import (
    make_batch,
)

from gessl_mm.models import TaskDataPreprocessor

pytestmark = pytest.mark.unit


def test_tasks_split_batch_and_views():
    pre = TaskDataPreprocessor(task_size=4, num_support_views=2)
    data = pre(make_batch(batch_size=8, num_views=3), training=True)
    tasks = pre.split_tasks(data['inputs'], data['data_samples'])
    assert len(tasks) == 2
    assert [t.num_classes for t in tasks] == [4, 4]
    assert len(tasks[0].support) == 2 and len(tasks[0].query) == 1
    assert not tasks[0].query_is_support
    torch.testing.assert_close(tasks[1].query[0], data['inputs'][2][4:])
    assert len(tasks[1].data_samples) == 4

    two = pre.split_tasks(pre(make_batch(8, 2), True)['inputs'])
    assert two[0].query_is_support and len(two[0].query) == 2


@pytest.mark.parametrize('batch,views,kwargs,message', [
    (8, 1, {}, 'at least 2 augmented views'),
    (6, 2, {}, 'not divisible by model.data_preprocessor.task_size=4'),
    (8, 3, dict(num_support_views=3), 'num_support_views=3 leaves no query view'),
])
def test_bad_batches_name_the_key(batch, views, kwargs, message):
    pre = TaskDataPreprocessor(task_size=4, **kwargs)
    with pytest.raises(ValueError, match=message):
        pre(make_batch(batch, views), training=True)
