"""parse_body releases the GIL while it decodes: threads get the same results, and overlap."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sunpower


def test_parse_body_in_threads_gives_the_same_records(forum_body: bytes) -> None:
    big = forum_body * 2000
    expected = sunpower.parse_body(big)
    assert len(expected) == 60_000
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(sunpower.parse_body, [big] * 4))
    assert all(r == expected for r in results)


def test_other_threads_run_while_a_body_decodes(forum_body: bytes) -> None:
    # A Python thread counting while the main thread is inside parse_body: with the GIL held
    # for the whole decode it could only count between calls (at switch intervals).
    big = forum_body * 20_000
    stop = threading.Event()
    ticks = 0

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    thread = threading.Thread(target=count)
    thread.start()
    try:
        time.sleep(0.01)
        start = ticks
        records = sunpower.parse_body(big)
        during = ticks - start
    finally:
        stop.set()
        thread.join()
    assert len(records) == 600_000
    assert during > 0
