import threading
import time

import hosthooks_request_timer
import pytest

from hosthooks import Host
from hosthooks import hookimpl
from hosthooks.runtime.demo_client import DemoClient


class App:
    pass


@pytest.fixture
def host(hosthooks_host: Host) -> Host:
    hosthooks_host.register(hosthooks_request_timer, "request-timer")
    return hosthooks_host


def serve_one(host: Host, path: str, *, fail: bool = False, finish_work: float = 0.0) -> None:
    host.hook.request_started(sender=App, environ={"REQUEST_METHOD": "GET", "PATH_INFO": path})
    if fail:
        host.hook.got_request_exception(sender=None, request=object())
    if finish_work:
        time.sleep(finish_work)
    host.hook.request_finished(sender=App)


def test_each_request_is_timed_and_logged(host: Host, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="hosthooks.request_timer"):
        serve_one(host, "/a")
        serve_one(host, "/b", fail=True)
    last_two = hosthooks_request_timer.recent()[-2:]
    assert [(t.path, t.failed) for t in last_two] == [("/a", False), ("/b", True)]
    assert all(t.duration_ms is not None and t.duration_ms >= 0 for t in last_two)
    assert "GET /b failed" in caplog.text


def test_the_wrapper_counts_other_plugins_request_finished_work(host: Host) -> None:
    class SlowCleanup:
        @hookimpl
        def request_finished(self) -> None:
            time.sleep(0.02)

    host.register(SlowCleanup(), "slow-cleanup")
    names = [impl.plugin_name for impl in host.implementations("request_finished")]
    assert names == ["request-timer", "slow-cleanup"]  # the wrapper is called first, ends last
    serve_one(host, "/slow")
    duration = hosthooks_request_timer.recent()[-1].duration_ms
    assert duration is not None
    assert duration >= 20


def test_concurrent_requests_do_not_mix(host: Host) -> None:
    barrier = threading.Barrier(2)

    def worker(path: str) -> None:
        host.hook.request_started(sender=App, environ={"REQUEST_METHOD": "GET", "PATH_INFO": path})
        barrier.wait(timeout=5)
        host.hook.request_finished(sender=App)

    threads = [threading.Thread(target=worker, args=(f"/t{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert {t.path for t in hosthooks_request_timer.recent()[-2:]} == {"/t0", "/t1"}


def test_a_finish_without_a_start_is_ignored(host: Host) -> None:
    before = len(hosthooks_request_timer.recent())
    # A fresh thread has a fresh context: no request_started was seen there.
    thread = threading.Thread(target=host.hook.request_finished, kwargs={"sender": App})
    thread.start()
    thread.join(timeout=10)
    assert len(hosthooks_request_timer.recent()) == before


def test_in_the_demo_app_each_served_request_is_timed(
    host: Host, hosthooks_client: DemoClient
) -> None:
    assert hosthooks_client.get("/login").status_code == 200
    assert hosthooks_client.get("/missing").status_code == 404
    assert [(t.method, t.path, t.failed) for t in hosthooks_request_timer.recent()[-2:]] == [
        ("GET", "/login", False),
        ("GET", "/missing", False),
    ]
