"""Which exceptions say the cluster failed rather than a task (edi837.parallel.faults).

Killing the scheduler mid-batch made the driver stop with "Stream is closed" (exit 2)
without naming the cluster, in some timings: tornado's StreamClosedError is no
CommClosedError, and a connection reset reached the batch's OSError handler."""
import pytest
from distributed.comm.core import CommClosedError
from tornado.iostream import StreamClosedError

from edi837.parallel.faults import _lost_connection, from_the_cluster


@pytest.mark.parametrize("exc", [StreamClosedError(), CommClosedError("in <TCP>: closed"),
                                 ConnectionResetError(104, "Connection reset by peer")])
def test_a_closed_connection_under_a_result_is_the_cluster(exc):
    assert _lost_connection(exc)


@pytest.mark.parametrize("exc", [StreamClosedError(), CommClosedError("closed")])
def test_the_client_layers_own_errors_are_the_clusters(exc):
    assert from_the_cluster(exc)


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"),
                                 FileNotFoundError(2, "No such file"), ValueError("x")])
def test_an_error_of_the_drivers_own_disk_is_not(exc):
    assert not from_the_cluster(exc)
    assert not _lost_connection(exc) or isinstance(exc, ConnectionError)


def _raised_in(module_name: str, exc: BaseException) -> BaseException:
    """``exc`` as raised by a function of a module named ``module_name``."""
    namespace = {"__name__": module_name}
    exec("def call(exc):\n    raise exc\n", namespace)
    try:
        namespace["call"](exc)
    except BaseException as raised:
        return raised
    raise AssertionError("not raised")


def test_a_socket_reset_through_the_dask_client_stops_batch_as_a_cluster_error():
    """The socket's ConnectionResetError, raised up through distributed's code when the
    scheduler dies under the driver's call, is the cluster's; one raised elsewhere (the
    object store's, the driver's own) is named as it is."""
    from edi837.cli.batch import _from_the_cluster

    reset = ConnectionResetError(104, "Connection reset by peer")
    assert _from_the_cluster(_raised_in("distributed.client", reset))
    assert _from_the_cluster(_raised_in("tornado.iostream", BrokenPipeError(32, "pipe")))
    assert not _from_the_cluster(_raised_in("s3fs.core", ConnectionResetError(104, "x")))
    assert not _from_the_cluster(_raised_in("distributed.client", OSError(28, "No space")))


def test_a_scheduler_lost_while_the_key_is_given_is_a_cluster_error():
    """The scheduler killed as a run starts, while the key plugin is registered: exit 2
    with a cluster error naming the scheduler (as a loss later in the run is named)."""
    from edi837.parallel.cluster import ClusterError, register_key
    from edi837.parallel.keys import install

    class Scheduler:
        address = "tcp://127.0.0.1:8786"

    class Client:
        scheduler = Scheduler()

        def register_plugin(self, plugin):
            raise CommClosedError("in <closed TCP>: ConnectionPool.register_worker_plugin: "
                                  "Stream is closed")

    with pytest.raises(ClusterError) as raised:
        register_key(Client(), install(b"k" * 32))
    assert str(raised.value).startswith("cluster error at Dask scheduler tcp://127.0.0.1:8786: "
                                        "cannot give the Dask workers the patient history's key")
    assert "Stream is closed" in str(raised.value)
