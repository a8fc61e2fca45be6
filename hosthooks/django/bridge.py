"""Django's built-in signals forwarded to a host's hooks.

For each built-in signal whose hook has an implementation, the bridge connects
one receiver (strongly, ``dispatch_uid="hosthooks:<hook>"``) that calls
``host.hook.<hook>`` with the keyword arguments Django sends, minus
``signal``. When a hook gains its first implementation or loses its last, its
receiver is connected or disconnected, so a signal no plugin implements costs
exactly what Django's ``send`` costs without it.

An implementation that raises is a receiver that raises: Django's ``send``
propagates the exception (with a note naming the plugin), ``send_robust``
returns it as the bridge receiver's response. Either way the implementations
after it do not run for that signal: to Django, the plugins are one receiver.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any
from typing import Final

from hosthooks.django.signals import SIGNAL_PATHS
from hosthooks.django.signals import built_in_signals
from hosthooks.engine.dispatch import MISSING
from hosthooks.host import Host
from hosthooks.transactions import CommitHandler
from hosthooks.transactions import set_commit_handler

#: What the bridge's receivers are connected with: ``hosthooks:<hook>``.
DISPATCH_UID_PREFIX: Final = "hosthooks:"
#: The receiver that keeps the model classes Django prepares before ``ready()``.
_KEEPER_UID: Final = "hosthooks:keep-prepared-classes"


def dispatch_uid(hook: str) -> str:
    """The ``dispatch_uid`` of the bridge's receiver for ``hook``."""
    return f"{DISPATCH_UID_PREFIX}{hook}"


def _on_django_commit(callback: Callable[[], None], using: str | None) -> None:
    from django.db import transaction

    transaction.on_commit(callback, using=using)


#: ``hosthooks.on_commit`` under Django: its transactions are Django's.
django_commit_handler: Final[CommitHandler] = _on_django_commit


class Bridge:
    """Forwards Django's built-in signals to one host at a time.

    :meth:`keep_prepared_classes` must run before Django imports the models
    (the app's ``AppConfig.__init__`` does), :meth:`attach` once they are all
    prepared (its ``ready()``).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._host: Host | None = None
        self._stop_watching: Callable[[], None] | None = None
        #: The project's model classes, in the order Django prepared them.
        self._prepared: list[type] = []
        #: How many of them each host has been given through class_prepared.
        self._given: weakref.WeakKeyDictionary[Host, int] = weakref.WeakKeyDictionary()

    @property
    def host(self) -> Host | None:
        """The host the signals go to; None before :meth:`attach`."""
        return self._host

    def keep_prepared_classes(self) -> None:
        """Keep every model class Django prepares from now until :meth:`attach`, to
        give them to the host's historic ``class_prepared`` in the same order."""
        signal = built_in_signals()["class_prepared"]
        signal.connect(self._keep_prepared, weak=False, dispatch_uid=_KEEPER_UID)

    def _keep_prepared(self, sender: type, **_: Any) -> None:
        with self._lock:
            self._prepared.append(sender)

    def attach(self, host: Host) -> None:
        """Forward every built-in signal some implementation of ``host`` listens to,
        from now on, and make ``hosthooks.on_commit`` wait for Django's transactions.

        ``host`` first receives ``class_prepared`` (historic) for every project model
        prepared so far that it was not given yet, in Django's order. A host
        attached before replaces it.
        """
        with self._lock:
            self.detach()
            built_in_signals()["class_prepared"].disconnect(dispatch_uid=_KEEPER_UID)
            self._host = host
            self._give_prepared(host)
            set_commit_handler(django_commit_handler)
            self._stop_watching = host.watch_listening(self._listening_changed)

    def detach(self) -> None:
        """Stop forwarding: every receiver of the bridge is disconnected."""
        with self._lock:
            if self._stop_watching is not None:
                self._stop_watching()
                self._stop_watching = None
            for hook in SIGNAL_PATHS:
                self._listening_changed(hook, False)
            previous = set_commit_handler(None)
            if previous is not django_commit_handler:
                set_commit_handler(previous)  # another host's: not the bridge's to remove
            self._host = None

    def _give_prepared(self, host: Host) -> None:
        caller = host.plugin_manager.hook.class_prepared
        given = self._given.get(host, 0)
        for cls in self._prepared[given:]:
            caller.call_historic(kwargs={"sender": cls})
        self._given[host] = len(self._prepared)

    def _listening_changed(self, hook: str, listening: bool) -> None:
        if hook not in SIGNAL_PATHS:
            return
        signal = built_in_signals()[hook]
        host = self._host
        if listening and host is not None:
            signal.connect(self._forwarder(host, hook), weak=False, dispatch_uid=dispatch_uid(hook))
        else:
            signal.disconnect(dispatch_uid=dispatch_uid(hook))
        if hook == "template_rendered":
            send_template_rendered(listening and host is not None)

    def _forwarder(self, host: Host, hook: str) -> Callable[..., Any]:
        if hook == "class_prepared":
            return self._forward_class_prepared
        return make_forwarder(hook, getattr(host.hook, hook))

    def _forward_class_prepared(self, signal: object, sender: type, **arguments: Any) -> None:
        from django.apps import apps

        host = self._host
        if host is None:
            return
        caller = host.plugin_manager.hook.class_prepared
        kwargs = {"sender": sender, **arguments}
        if getattr(getattr(sender, "_meta", None), "apps", None) is apps:
            with self._lock:
                self._prepared.append(sender)
                self._given[host] = len(self._prepared)
            caller.call_historic(kwargs=kwargs)
            return
        # A model of another registry: migrations render each state of the
        # project's models as one. Every implementation hears it, as every
        # receiver does, but it is not kept for later plugins: keeping it would
        # keep every rendered state alive.
        host.plugin_manager._hookexec("class_prepared", caller.get_hookimpls(), kwargs, False)


def make_forwarder(hook: str, call: Any) -> Callable[..., Any]:
    """A receiver calling ``call`` (``host.hook.<hook>``) with what Django sends, minus ``signal``.

    Its parameters are the hook's, by name: Django calls receivers by keyword,
    and so does it call the hook, with no dictionary of the arguments built in
    between (a receiver taking ``**kwargs`` builds one, and unpacks it again).
    An argument Django leaves out reaches the hook as left out, where pluggy
    warns of a required one; one the hook does not know is passed on, as Django
    sent it.
    """
    spec = call.spec
    names = [*spec.argnames, *spec.kwargnames]
    required = [name for name in names if name not in spec.kwargdefaults]
    defaults = {name: spec.kwargdefaults.get(name, MISSING) for name in names}
    parameters = ", ".join(f"{name}=defaults[{name!r}]" for name in names)
    arguments = ", ".join(f"{name}={name}" for name in names)
    mapping = ", ".join(f"{name!r}: {name}" for name in names)
    unusual = " or ".join(["extra", *(f"{name} is MISSING" for name in required)])
    namespace: dict[str, Any] = {"defaults": defaults}
    # Generated, not written out: each hook has its own arguments. The names
    # are the spec's, which pluggy has validated as identifiers.
    exec(
        f"def forward_{hook}(signal, {parameters}, **extra):\n"
        f"    if {unusual}:\n"
        f"        return call(**passed({{{mapping}}}, extra))\n"
        f"    return call({arguments})\n",
        {"call": call, "MISSING": MISSING, "passed": _passed},
        namespace,
    )
    forward: Callable[..., Any] = namespace[f"forward_{hook}"]
    forward.__module__ = __name__
    return forward


def _passed(arguments: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The arguments Django passed: the hook's it sent, and the ones the hook lacks."""
    return {**{name: value for name, value in arguments.items() if value is not MISSING}, **extra}


# -- template_rendered ------------------------------------------------------------

#: Django's own ``Template._render``, while the bridge's stands in for it.
_plain_render: Callable[..., Any] | None = None


def _render_sending_signal(template: Any, context: Any) -> Any:
    from django.test.signals import template_rendered

    assert _plain_render is not None
    template_rendered.send(sender=template, template=template, context=context)
    return _plain_render(template, context)


def send_template_rendered(enabled: bool) -> None:
    """Make Django's template engine send ``template_rendered`` on every render, as
    it does only under its test runner, or stop.

    While Django's test runner instruments templates itself, its instrumentation
    is left in place: it sends the signal already.
    """
    global _plain_render
    from django.template.base import Template

    current = Template._render
    if enabled:
        if current is _render_sending_signal or current.__module__ == "django.test.utils":
            return
        _plain_render = current
        Template._render = _render_sending_signal
    elif current is _render_sending_signal:
        Template._render = _plain_render
        _plain_render = None


#: The process's bridge, which the app's ``ready()`` attaches to the process host.
bridge: Final = Bridge()
