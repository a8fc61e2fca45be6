"""The example async plugin, hosthooks-webhook (installed with pip from plugins/),
posting to a local webhook from a real ``hosthooks serve --asgi``, and from the
WSGI server too."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from tests.serving import SERVERS
from tests.serving import Client
from tests.serving import serving


class Webhook:
    """A local webhook receiver: every POSTed JSON body, in arrival order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with received.lock:
                    received.events.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.02)
        with self.lock:
            return list(self.events)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    receiver = Webhook()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize("kind", SERVERS)
def test_saving_and_deleting_a_note_posts_each_to_the_webhook(tmp_path, webhook, kind):
    # Over WSGI the async implementation is run to completion from the view's thread.
    with serving(
        tmp_path,
        kind=kind,
        entry_points=["webhook"],
        settings={"PLUGIN_WEBHOOK__URL": webhook.url},
    ) as server:
        client = Client(server)
        assert client.signup("hooked") == 303
        signed_up = webhook.wait_for(1)
        assert client.post("/notes", {"title": "posted", "tags": ""})[0] == 303
        [note_id] = server.query("SELECT id FROM demo_note WHERE title = 'posted'")[0]
        client.get("/")
        assert client.post(f"/notes/{note_id}/delete", {})[0] == 303
        events = webhook.wait_for(len(signed_up) + 2)
    assert {"event": "post_save", "model": "auth.User", "pk": 1, "created": True} in signed_up
    assert events[len(signed_up) :] == [
        {"event": "post_save", "model": "demo.Note", "pk": note_id, "created": True},
        {"event": "post_delete", "model": "demo.Note", "pk": note_id},
    ]
    assert "not delivered" not in server.log.read_text()
