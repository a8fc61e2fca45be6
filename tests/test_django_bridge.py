"""The bridge inside a real Django project (tests/djangoproject), one process per
scenario: Django is set up once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PLUGIN_JSON_KEYS

pytest.importorskip("django")

REPO = Path(__file__).resolve().parent.parent
ALL_HOOKS = sorted(
    [
        "class_prepared",
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "m2m_changed",
        "pre_migrate",
        "post_migrate",
        "request_started",
        "request_finished",
        "got_request_exception",
        "setting_changed",
        "connection_created",
        "user_logged_in",
        "user_logged_out",
        "user_login_failed",
        "template_rendered",
    ]
)


def project_environ(tmp_path: Path, hosthooks: dict[str, Any]) -> dict[str, str]:
    """The environment of a project process: its own database and HOSTHOOKS setting,
    no HOSTHOOKS_ variable of ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTHOOKS_")}
    env["PROJECT_DB"] = str(tmp_path / "project.sqlite3")
    env["PROJECT_HOSTHOOKS"] = json.dumps(hosthooks)
    env["PYTHONWARNINGS"] = "error"
    return env


def run_scenario(
    tmp_path: Path,
    name: str,
    hosthooks: dict[str, Any],
    module: str = "tests.djangoproject.scenarios",
) -> Any:
    """Run scenario ``name`` of ``module`` in the test project, in a process of its
    own: the JSON report it prints last."""
    result = subprocess.run(
        [sys.executable, "-m", module, name],
        cwd=REPO,
        env=project_environ(tmp_path, hosthooks),
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Any:
    """What a recording plugin and plain receivers heard across the whole scenario."""
    return run_scenario(tmp_path_factory.mktemp("compare"), "compare", {"autoload": False})


def test_a_plugin_hears_exactly_what_a_plain_receiver_of_every_signal_hears(compared):
    report = compared
    assert report["mismatches"] == []
    assert report["hooks"] == ALL_HOOKS
    # Both threads: the scenario's, and the server's.
    assert report["threads"] == 2
    assert report["statuses"] == {
        "books": 200,
        "fail": 500,
        "login_form": 200,
        "failed_login": 200,
        "login": 200,
        "logout": 200,
    }
    counts = report["counts"]
    # add, add from the other side, add of a present tag, remove, clear, set: pre_ and post_.
    assert counts["m2m_changed"] == 12
    # One per app with models: auth, contenttypes, sessions, library, django_app,
    # and hosthooks (its outbox of deferred calls).
    assert counts["pre_migrate"] == counts["post_migrate"] == 6
    # Six requests and the two redirects followed.
    assert counts["request_started"] == counts["request_finished"] == 8
    assert counts["got_request_exception"] == 1
    assert counts["user_login_failed"] == counts["user_logged_in"] == 1
    assert counts["user_logged_out"] == 1
    assert counts["setting_changed"] == 2


def test_models_prepared_before_ready_are_replayed_in_djangos_order(compared):
    report = compared
    assert report["replayed_in_djangos_order"] is True
    # contenttypes 1, auth 6 (with the through models), sessions 1, library 4, django_app 4,
    # hosthooks 1 (the outbox of deferred calls).
    assert report["replayed"] == 17


@pytest.fixture(scope="module")
def example_plugins_run(tmp_path_factory) -> tuple[Any, list[dict[str, Any]]]:
    """The example plugins in the project: what the scenario reports, and the audit log."""
    tmp_path = tmp_path_factory.mktemp("example_plugins")
    audit_log = tmp_path / "audit.jsonl"
    report = run_scenario(
        tmp_path,
        "example_plugins",
        {"plugins": {"audit": {"path": str(audit_log)}, "login-guard": {"limit": 1}}},
    )
    return report, [json.loads(line) for line in audit_log.read_text().splitlines()]


def runtime_audit_entries(tmp_path: Path, host: Any, monkeypatch) -> list[dict[str, Any]]:
    """The audit log of the same scenario on the runtime, with a transaction rolled back."""
    import hosthooks_audit

    from hosthooks.runtime import Database
    from hosthooks.runtime import migrate
    from hosthooks.runtime.db import atomic
    from tests.comparison import scenario
    from tests.comparison.models import MODELS
    from tests.comparison.models import Author
    from tests.comparison.models import Book
    from tests.comparison.models import Tag

    audit_log = tmp_path / "runtime-audit.jsonl"
    monkeypatch.setenv("HOSTHOOKS_AUDIT_LOG", str(audit_log))
    database = Database(tmp_path / "runtime.sqlite3")
    migrate(database, models=MODELS, verbosity=0)
    host.register(hosthooks_audit, "audit")
    scenario.run(Author, Tag, Book, lambda step: None)
    with pytest.raises(ZeroDivisionError), atomic():
        Author(name="Rolled back").save()
        _ = 1 / 0
    database.close()
    return [json.loads(line) for line in audit_log.read_text().splitlines()]


def test_the_example_plugins_load_from_their_entry_points_unchanged(example_plugins_run):
    report, _ = example_plugins_run
    assert report["plugins"] == [
        ["audit", "active"],
        ["login-guard", "active"],
        ["request-timer", "active"],
        ["webhook", "active"],
    ]


def test_the_audit_plugin_logs_what_it_logs_on_the_runtime(
    example_plugins_run, tmp_path, default_host, monkeypatch
):
    _, django_entries = example_plugins_run
    # The scenario's app is "django_app" in Django and "comparison" on the runtime.
    scenario_entries = [
        json.loads(json.dumps(entry).replace('"django_app.', '"comparison.'))
        for entry in django_entries
        if entry["model"].startswith("django_app.")
    ]
    runtime_entries = runtime_audit_entries(tmp_path, default_host, monkeypatch)
    assert scenario_entries == runtime_entries
    # What commits is logged, on both hosts: never the author rolled back.
    assert len(runtime_entries) == 26
    assert "Rolled back" not in json.dumps(runtime_entries)


def test_the_login_guard_and_request_timer_log_each_request_and_failed_login(
    example_plugins_run,
):
    report, django_entries = example_plugins_run
    timer = "hosthooks.request_timer INFO: request-timer:"
    assert report["logged"] == [
        f"{timer} GET /books/ ok <duration> ms",
        f"{timer} GET /fail/ failed <duration> ms",
        f"{timer} GET /login/ ok <duration> ms",
        "hosthooks.login_guard WARNING: login-guard: 1 consecutive failed logins for 'ged'",
        f"{timer} POST /login/ ok <duration> ms",
        f"{timer} POST /login/ ok <duration> ms",
        f"{timer} GET /books/ ok <duration> ms",
        f"{timer} POST /logout/ ok <duration> ms",
        f"{timer} GET /books/ ok <duration> ms",
    ]
    # The login recorded last_login through Django's own receiver, which the audit saw.
    assert {"event": "updated", "fields": ["last_login"], "model": "auth.User", "pk": 1} in [
        {key: entry[key] for key in ("event", "fields", "model", "pk")} for entry in django_entries
    ]


def test_the_bridge_imports_nothing_of_the_runtime(example_plugins_run):
    report, _ = example_plugins_run
    # Nor does it load the runtime's built-in plugin (the plugins listed are all there are).
    assert report["runtime_modules"] == []


@pytest.fixture(scope="module")
def plugins_changed(tmp_path_factory) -> Any:
    """Plugins registered and unregistered in a running project."""
    tmp_path = tmp_path_factory.mktemp("plugins_change")
    return run_scenario(tmp_path, "plugins_change", {"autoload": False})


def test_receivers_follow_the_plugins_and_senders_are_filtered_by_label_or_class(
    plugins_changed,
):
    report = plugins_changed
    assert report["before"] == []
    assert report["registered"] == ["pre_save", "post_save", "template_rendered"]
    assert report["templates_send"] is True
    assert report["sending_after_test_runner"] is True
    assert report["heard"] == [
        # pre_save filtered on the class Author: not the other app's Author.
        ["class", "library.Author"],
        # post_save filtered on the label "library.Book".
        ["label", "library.Book"],
        ["template", "library/book_list.html"],
        # Rendered under Django's test runner, whose instrumentation sends it.
        ["template", "library/book_list.html"],
        # The author whose post_save raises below.
        ["class", "library.Author"],
    ]
    assert report["unregistered"] == []
    assert report["templates_plain_again"] is True


def test_a_raising_plugin_is_a_raising_receiver_named_in_a_note(plugins_changed):
    report = plugins_changed
    note = "raised by plugin 'raising' in hook 'post_save'"
    assert report["raised"] == ["no authors today", note]
    assert report["robust"] == [
        ["note_saved", "None"],
        ["forward_post_save", "ValueError('no authors today')", note],
    ]


def manage(
    tmp_path: Path, hosthooks: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.djangoproject.manage", "hosthooks", *args],
        cwd=REPO,
        env=project_environ(tmp_path, hosthooks),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_manage_hooks_lists_plugin_implementations_and_django_receivers_in_call_order(tmp_path):
    result = manage(tmp_path, {}, "hooks", "post_save", "--json")
    assert result.returncode == 0, result.stderr
    [hook] = json.loads(result.stdout)
    # Entry-point plugins register in name order; the last registered runs first.
    assert [(impl["plugin"], impl["function"], impl["async"]) for impl in hook["impls"]] == [
        ("webhook", "hosthooks_webhook.post_save", True),
        ("audit", "hosthooks_audit.post_save", False),
    ]
    assert hook["receivers"] == [
        {
            "module": "tests.djangoproject.library.receivers",
            "function": "count_book_saves",
            "sender": "library.Book",
            "dispatch_uid": "library.books",
            "weak": True,
        },
        {
            "module": "tests.djangoproject.library.receivers",
            "function": "note_saved",
            "sender": None,
            "dispatch_uid": None,
            "weak": True,
        },
        {
            "module": "hosthooks.django.bridge",
            "function": "forward_post_save",
            "sender": None,
            "dispatch_uid": "hosthooks:post_save",
            "weak": False,
        },
    ]
    # The same keys as `hosthooks hooks --json`, and receivers.
    assert set(hook) == {
        "name",
        "family",
        "args",
        "historic",
        "firstresult",
        "doc",
        "impls",
        "receivers",
    }


def test_manage_hooks_shows_a_hook_and_its_receivers_as_text(tmp_path):
    result = manage(tmp_path, {"autoload": False}, "hooks", "post_save")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(
        "No implementations.\n"
        "\n"
        "Django receivers, in the order Django calls them:\n"
        "  1. tests.djangoproject.library.receivers.count_book_saves"
        " [sender=library.Book, dispatch_uid='library.books', weak]\n"
        "  2. tests.djangoproject.library.receivers.note_saved [weak]\n"
    )


def test_manage_plugins_prints_the_clis_json(tmp_path):
    result = manage(tmp_path, {}, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    assert [plugin["name"] for plugin in plugins] == [
        "audit",
        "login-guard",
        "request-timer",
        "webhook",
    ]
    assert {plugin["source"] for plugin in plugins} == {"entry-point"}
    assert set(plugins[0]) == PLUGIN_JSON_KEYS


def test_manage_plugins_reads_no_mutes_of_a_runtime_database(tmp_path):
    # A runtime database muting audit, named where the runtime would look for it:
    # the project's plugins are not that app's, so its mutes are not theirs.
    runtime_db = tmp_path / "runtime.sqlite3"
    bin_dir = Path(sys.executable).parent
    for args in (("migrate",), ("mute", "audit")):
        subprocess.run(
            [str(bin_dir / "hosthooks"), *args, "--db", str(runtime_db)],
            capture_output=True,
            check=True,
            timeout=120,
        )
    env = project_environ(tmp_path, {})
    env["HOSTHOOKS_DATABASE"] = str(runtime_db)
    listed = subprocess.run(
        [sys.executable, "-m", "tests.djangoproject.manage", "hosthooks", "plugins", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert [plugin["muted"] for plugin in json.loads(listed.stdout)] == [False] * 4
    refused = manage(tmp_path, {}, "plugins", "--db", "default")
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == (
        "hosthooks: error: --db names a database of the hosthooks runtime;"
        " under Django plugins have no mutes to read"
    )


def test_manage_check_names_a_sender_label_the_project_lacks(tmp_path):
    plugins_dir = REPO / "tests" / "djangoproject" / "label_plugins"
    settings = {"autoload": False, "plugins_dir": str(plugins_dir)}
    result = manage(tmp_path, settings, "check")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "misspelt: pre_save: sender 'library.Bok' names no known model"
        " (did you mean 'library.Book'?)"
    ]
    passing = manage(tmp_path, {"autoload": False}, "check")
    assert (passing.returncode, passing.stdout) == (0, "0 plugin(s) checked, no problems.\n")


def test_manage_refuses_the_runtimes_commands_and_check_app(tmp_path):
    serve = manage(tmp_path, {"autoload": False}, "serve")
    assert serve.returncode == 2
    assert "invalid choice: 'serve'" in serve.stderr
    app = manage(tmp_path, {"autoload": False}, "check", "--app", "library")
    assert app.returncode == 2
    assert app.stderr == (
        "hosthooks: error: --app: sender= labels are checked against the application's own models\n"
    )


def test_a_wrong_hosthooks_setting_stops_the_project_naming_the_key(tmp_path):
    result = manage(tmp_path, {"strict_plugin": True}, "plugins")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: settings.HOSTHOOKS['strict_plugin']: "
        "unknown key (did you mean 'strict_plugins'?)"
    )


def test_manage_traceback_shows_a_failed_plugins_own_traceback(tmp_path):
    plugins_dir = REPO / "tests" / "djangoproject" / "broken_plugins"
    settings = {"autoload": False, "plugins_dir": str(plugins_dir)}
    plain = manage(tmp_path, settings, "check")
    assert (plain.returncode, plain.stdout) == (1, "broken: RuntimeError: broken on purpose\n")
    assert "Traceback" not in plain.stderr
    shown = manage(tmp_path, settings, "--traceback", "check")
    assert shown.returncode == 1
    assert shown.stderr.endswith(
        f'  File "{plugins_dir / "broken.py"}", line 5, in <module>\n'
        '    raise RuntimeError("broken on purpose")\n'
        "RuntimeError: broken on purpose\n"
    )


def test_manage_docs_writes_the_clis_hook_reference(tmp_path):
    hosthooks_command = Path(sys.executable).with_name("hosthooks")
    for options in ([], ["--format", "html"]):
        reference = subprocess.run(
            [str(hosthooks_command), "docs", *options],
            cwd=REPO,
            env=project_environ(tmp_path, {}),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        result = manage(tmp_path, {"autoload": False}, "docs", *options)
        assert result.returncode == 0, result.stderr
        assert result.stdout == reference.stdout
        assert result.stdout.startswith("# Hook reference" if not options else "<!DOCTYPE html>")


def test_djangos_asend_and_send_reach_async_implementations_in_hosthooks_order(tmp_path):
    report = run_scenario(tmp_path, "async_send", {"autoload": False})
    # "plain" registered last, so pluggy's order calls it first, on either path.
    assert report["send"] == [["sync", "Ursula"], ["async", "Ursula", True]]
    assert report["asend"] == [["sync", "Ursula"], ["async", "Ursula", False]]
    # A synchronous send inside a running event loop is refused, naming hook and plugin.
    assert report["send_on_a_loop"] == [
        "AsyncImplementationError",
        "hook 'post_save' was called synchronously in a thread running an event loop, and "
        "plugin 'mixed' implements it with async def: use 'await host.ahook.post_save(...)' there",
    ]


def test_bulk_hooks_fire_inside_django_when_the_project_opts_in(tmp_path):
    report = run_scenario(tmp_path, "bulk_hooks", {"autoload": False, "bulk_hooks": True})
    [ursula, terry] = report["heard"][0][2]
    books = sorted(report["heard"][3][2])
    assert report["heard"] == [
        ["post_bulk_create", "Author", [ursula, terry], "default"],
        ["pre_bulk_update", [ursula, terry], ["name"]],
        ["post_bulk_update", "Author", ["name"]],
        ["post_bulk_create", "Book", books, "default"],
        ["pre_queryset_update", {"pages": 10}, 1],
        ["post_queryset_update", [books[0]], 1],
        ["pre_queryset_delete", "Author", 1],
        ["post_queryset_delete", "Author", [terry], 1],
        # The update a raising post_ hook rolled back.
        ["pre_queryset_update", {"pages": 99}, 2],
    ]
    assert report["results"] == [2, 1, 1]
    assert report["pages"] == [0, 10]
    assert report["wrapped"] is True
    assert report["delete_receivers"] == [False, False]


def test_without_the_setting_querysets_are_djangos_own(tmp_path):
    report = run_scenario(tmp_path, "bulk_hooks", {"autoload": False})
    assert report["heard"] == []
    assert report["wrapped"] is False
    assert report["pages"] == [99, 99]  # nothing heard, nothing raised: the update stands
