import multiprocessing
import queue
import uuid

import pytest
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker

from constraints.health import WORKER
from constraints.models import Heartbeat

pytestmark = pytest.mark.redis


@pytest.fixture
def broker(redis_url, monkeypatch) -> Redis:
    monkeypatch.setattr(Conf, "REDIS", redis_url)
    monkeypatch.setattr(Conf, "DJANGO_REDIS", None)
    broker = Redis(list_key=f"decisionhub-test-{uuid.uuid4().hex}")
    yield broker
    broker.delete_queue()


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_task_through_the_redis_broker(broker):
    async_task("constraints.tasks.beat", broker=broker)
    assert broker.queue_size() == 1
    [(ack_id, payload)] = broker.dequeue()
    task = SignedPackage.loads(payload)
    tasks, results = queue.Queue(), queue.Queue()
    tasks.put(task)
    tasks.put("STOP")
    worker(tasks, results, multiprocessing.Value("f", -1), timeout=30)
    done = results.get_nowait()
    broker.acknowledge(ack_id)
    assert done["success"], done["result"]
    assert Heartbeat.objects.last_beat(WORKER) is not None
    assert broker.queue_size() == 0
