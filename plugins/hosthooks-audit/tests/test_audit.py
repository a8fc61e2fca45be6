import json
from pathlib import Path
from typing import Any

import hosthooks_audit
import pytest

from hosthooks import HookCalls
from hosthooks import Host
from hosthooks.authoring.pytest_plugin import MuteHooks
from hosthooks.runtime import Database
from hosthooks.runtime import Model
from hosthooks.runtime import atomic
from hosthooks.runtime import fields


class Article(Model):
    """A model of the runtime, never saved here: the hooks are called directly."""

    title = fields.Text()

    class Meta:
        app_label = "blog"


class Tag:
    """Not a model: the related model of an m2m change is named whatever it is."""


def article_with_pk(pk: int) -> Article:
    return Article(id=pk, title="An article")


class Memo(Model):
    text = fields.Text()


@pytest.fixture
def host(hosthooks_host: Host) -> Host:
    hosthooks_host.register(hosthooks_audit, "audit")
    return hosthooks_host


@pytest.fixture
def audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("HOSTHOOKS_AUDIT_LOG", str(path))
    return path


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_save_delete_and_relation_changes_are_logged_in_order(host: Host, audit_log: Path) -> None:
    article = article_with_pk(7)
    host.hook.post_save(
        sender=Article,
        instance=article,
        created=True,
        raw=False,
        using="default",
        update_fields=None,
    )
    host.hook.post_save(
        sender=Article,
        instance=article,
        created=False,
        raw=False,
        using="default",
        update_fields=frozenset({"title", "body"}),
    )
    for action in ("pre_add", "post_add"):
        host.hook.m2m_changed(
            sender=object,
            instance=article,
            action=action,
            reverse=False,
            model=Tag,
            pk_set={3, 1},
            using="default",
        )
    host.hook.post_delete(sender=Article, instance=article, using="default", origin=article)

    entries = read(audit_log)
    assert [entry["event"] for entry in entries] == [
        "created",
        "updated",
        "m2m:post_add",
        "deleted",
    ]
    assert entries[0] == {
        "event": "created",
        "model": "blog.Article",
        "pk": 7,
        "using": "default",
        "fields": None,
    }
    assert entries[1]["fields"] == ["body", "title"]
    # A class that is no model is named by its module and qualified name.
    assert entries[2]["related"] == f"{Tag.__module__}.Tag"
    assert entries[2]["pks"] == [1, 3]


def test_without_a_log_file_entries_go_to_the_logger(
    host: Host, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("HOSTHOOKS_AUDIT_LOG", raising=False)
    with caplog.at_level("INFO", logger="hosthooks.audit"):
        host.hook.post_delete(
            sender=Article, instance=article_with_pk(2), using="other", origin=None
        )
    assert json.loads(caplog.records[0].getMessage())["using"] == "other"


def test_an_unwritable_log_is_logged_naming_the_plugin(
    host: Host,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The entry is written after the commit: an error then cannot undo the
    # write, so on_commit logs it, naming the plugin and hook it came from.
    monkeypatch.setenv("HOSTHOOKS_AUDIT_LOG", str(tmp_path / "missing-dir" / "audit.jsonl"))
    with caplog.at_level("ERROR", logger="hosthooks.transactions"):
        host.hook.post_delete(
            sender=Article, instance=article_with_pk(2), using="default", origin=None
        )
    (record,) = caplog.records
    assert "of plugin 'audit', hook 'post_delete' raised" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is FileNotFoundError


def test_with_the_runtime_entries_wait_for_the_commit(
    host: Host, hosthooks_db: Database, hook_calls: HookCalls, audit_log: Path
) -> None:
    with pytest.raises(RuntimeError, match="rolled back"), atomic():
        Memo.objects.create(text="never committed")
        raise RuntimeError("rolled back")
    hook_calls.assert_fired("post_save", sender=Memo, created=True)
    assert not audit_log.exists()
    with atomic():
        memo = Memo.objects.create(text="kept")
        assert not audit_log.exists()  # not yet: the transaction is open
    assert [(e["event"], e["pk"]) for e in read(audit_log)] == [("created", memo.pk)]
    assert read(audit_log)[0]["model"] == "test_audit.Memo"


def test_a_muted_audit_writes_nothing_while_the_hooks_still_fire(
    host: Host,
    hosthooks_db: Database,
    hook_calls: HookCalls,
    mute_hooks: MuteHooks,
    audit_log: Path,
) -> None:
    mute_hooks(plugins=["audit"])
    memo = Memo.objects.create(text="unaudited")
    memo.delete()
    hook_calls.assert_order("pre_save", "post_save", "pre_delete", "post_delete")
    assert not audit_log.exists()
