import hosthooks_login_guard
import pytest

from hosthooks import HookCalls
from hosthooks import Host
from hosthooks.runtime.auth import User
from hosthooks.runtime.demo_client import DemoClient


@pytest.fixture
def host(hosthooks_host: Host) -> Host:
    hosthooks_login_guard.reset()
    hosthooks_host.register(hosthooks_login_guard, "login-guard")
    return hosthooks_host


def fail(host: Host, username: str) -> None:
    host.hook.user_login_failed(
        sender="hosthooks.runtime.auth",
        credentials={"username": username, "password": "********************"},
        request=None,
    )


def test_failures_are_counted_per_user_and_reset_by_a_login(host: Host) -> None:
    for _ in range(3):
        fail(host, "ann")
    fail(host, "bob")
    assert hosthooks_login_guard.failures("ann") == 3
    assert hosthooks_login_guard.failures("bob") == 1
    host.hook.user_logged_in(sender=User, request=None, user=User(username="ann"))
    assert hosthooks_login_guard.failures("ann") == 0
    assert hosthooks_login_guard.failures("bob") == 1


def test_a_warning_is_logged_from_the_limit_on(
    host: Host, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HOSTHOOKS_LOGIN_GUARD_LIMIT", "2")
    with caplog.at_level("WARNING", logger="hosthooks.login_guard"):
        fail(host, "eve")
        assert caplog.records == []
        fail(host, "eve")
        fail(host, "eve")
    assert [record.getMessage() for record in caplog.records] == [
        "login-guard: 2 consecutive failed logins for 'eve'",
        "login-guard: 3 consecutive failed logins for 'eve'",
    ]


def test_a_bad_limit_is_a_clear_error_naming_the_plugin(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTHOOKS_LOGIN_GUARD_LIMIT", "0")
    with pytest.raises(ValueError, match="at least 1") as caught:
        fail(host, "eve")
    assert "raised by plugin 'login-guard' in hook 'user_login_failed'" in getattr(
        caught.value, "__notes__", []
    )


def test_in_the_demo_app_failed_logins_are_counted_and_a_login_resets(
    host: Host, hosthooks_client: DemoClient, hook_calls: HookCalls
) -> None:
    assert hosthooks_client.signup("ann", "a long enough password").status_code == 303
    hosthooks_client.logout()
    for _ in range(2):
        assert hosthooks_client.login("ann", "wrong").status_code == 200
    assert hosthooks_login_guard.failures("ann") == 2
    hook_calls.assert_fired("user_login_failed", times=2)
    assert hosthooks_client.login("ann", "a long enough password").status_code == 303
    assert hosthooks_login_guard.failures("ann") == 0
