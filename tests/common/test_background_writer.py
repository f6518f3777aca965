"""The checkpoint thread: writes run in submission order, a failure is re-raised (never lost), and the thread runs at
the training thread's priority, so that writes keep up with training on a machine whose cores are all busy."""

import os
import sys
import threading

import pytest

from skrl.common import background_writer


def test_writes_run_in_order_and_a_failure_is_reraised_at_wait():
    order = []
    for i in range(5):
        background_writer.submit(order.append, i)
    background_writer.wait()
    assert order == [0, 1, 2, 3, 4]

    def broken():
        raise OSError("disk full")

    background_writer.submit(broken)
    with pytest.raises(RuntimeError, match="disk full"):
        background_writer.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice levels are a Linux feature")
def test_the_checkpoint_thread_runs_at_the_training_threads_priority():
    seen = []
    background_writer.submit(lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    background_writer.wait()
    assert seen == [os.getpriority(os.PRIO_PROCESS, threading.get_native_id())]
