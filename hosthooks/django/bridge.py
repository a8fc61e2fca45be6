"""Django's built-in signals forwarded to a host's hooks.

For each built-in signal whose hook has an implementation, the bridge connects
one receiver (strongly, ``dispatch_uid="hosthooks:<hook>"``) that calls
``host.hook.<hook>`` with the keyword arguments Django sends, minus
``signal``. An argument Django leaves out (some of its sends are partial:
``setting_changed`` without ``value``, ``post_migrate`` with only
``app_config`` and ``verbosity``) reaches the plugins as the spec's default,
``None`` for an argument without one, as each spec's docstring says.

Receivers follow the implementations. A signal no plugin implements has no
receiver, so it costs exactly what Django's ``send`` costs without it. When
every implementation of a hook is filtered by ``sender=`` on classes (or on
labels of the project's models), the receiver is connected for exactly those
senders, so Django's ``has_listeners`` stays false for the others and its fast
paths (a queryset's fast delete, the fast add of many-to-many rows) stay on.
A receiver that is still wanted keeps its place in Django's list, whatever
changes around it, as one connected with a ``dispatch_uid`` does.

An implementation that raises is a receiver that raises: Django's ``send``
propagates the exception (with a note naming the plugin), ``send_robust``
returns it as the bridge receiver's response. Either way the implementations
after it do not run for that signal: to Django, the plugins are one receiver.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import Final

from hosthooks.django.signals import SIGNAL_PATHS
from hosthooks.django.signals import built_in_signals
from hosthooks.engine.dispatch import sender_filter
from hosthooks.host import Host
from hosthooks.specs import MODEL_SENDER_HOOKS
from hosthooks.transactions import add_data_layer

#: What the bridge's receivers are connected with: ``hosthooks:<hook>``.
DISPATCH_UID_PREFIX: Final = "hosthooks:"
#: The receiver that keeps the model classes Django prepares before ``ready()``.
_KEEPER_UID: Final = "hosthooks:keep-prepared-classes"


def dispatch_uid(hook: str) -> str:
    """The ``dispatch_uid`` of the bridge's receiver for ``hook``."""
    return f"{DISPATCH_UID_PREFIX}{hook}"


def _members(wanted: object) -> Iterator[object]:
    if isinstance(wanted, tuple):
        for member in wanted:
            yield from _members(member)
    else:
        yield wanted


def _project_model(label: str) -> type | None:
    """The model of the project's registry whose label is exactly ``label``, if any."""
    from django.apps import apps

    if not apps.models_ready:
        return None
    try:
        found: Any = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    # get_model ignores the case of the model's name; a label filter does not.
    if found._meta.label != label:
        return None
    model: type = found
    return model


def senders_to_connect(host: Host, hook: str) -> list[object]:
    """The senders the receiver of ``hook`` is connected for: none when nothing
    listens, ``[None]`` (every sender) when an implementation takes every sender
    or names one Django cannot be told about, else exactly the named senders.

    A label string is a sender Django can be told about when it names a model of
    the project (a hook sent by models); any other string is compared by value,
    which Django's identity matching cannot do.
    """
    if not host.listening.get(hook, False):
        return []
    # A tracer hears every call.
    if host.tracer is not None:
        return [None]
    senders: dict[int, object] = {}
    for impl in host.implementations(hook):
        wanted = sender_filter(impl)
        if wanted is None:
            return [None]
        for member in _members(wanted):
            if isinstance(member, str):
                model = _project_model(member) if hook in MODEL_SENDER_HOOKS else None
                if model is None:
                    return [None]
                member = model
            senders[id(member)] = member
    return list(senders.values())


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
        self._remove_layer: Callable[[], None] | None = None
        #: The project's model classes, in the order Django prepared them.
        self._prepared: list[type] = []
        #: How many of them each host has been given through class_prepared.
        self._given: weakref.WeakKeyDictionary[Host, int] = weakref.WeakKeyDictionary()
        #: Each hook's receiver: made once, pointed at the attached host's caller,
        #: so that attaching another host leaves Django's list of receivers as it is.
        self._forwarders: dict[str, Callable[..., Any]] = {}
        #: The senders each hook's receiver is connected for (None: every sender), by id.
        self._connected: dict[str, dict[int, object]] = {}

    @property
    def host(self) -> Host | None:
        """The host the signals go to; None before :meth:`attach`."""
        return self._host

    def keep_prepared_classes(self) -> None:
        """Keep every model class Django prepares from now on, to give them to a
        host's historic ``class_prepared`` in Django's order: the ones prepared
        before :meth:`attach` when it attaches, later ones as they come.

        This one receiver stays connected for good, first in Django's list: a
        class is prepared once, and the hook is historic, so a plugin registered
        at any time hears every class once.
        """
        signal = built_in_signals()["class_prepared"]
        signal.connect(self._class_prepared, weak=False, dispatch_uid=_KEEPER_UID)

    def _class_prepared(self, signal: object, sender: type, **arguments: Any) -> None:
        from django.apps import apps

        in_registry = getattr(getattr(sender, "_meta", None), "apps", None) is apps
        with self._lock:
            host = self._host
            if in_registry:
                self._prepared.append(sender)
                if host is not None:
                    self._given[host] = len(self._prepared)
        if host is None:
            return
        caller = host.plugin_manager.hook.class_prepared
        kwargs = {"sender": sender, **arguments}
        if in_registry:
            caller.call_historic(kwargs=kwargs)
        elif host.listening.get("class_prepared", False):
            # A model of another registry: migrations render each state of the
            # project's models as one. Every implementation hears it, as every
            # receiver does, but it is not kept for later plugins: keeping it
            # would keep every rendered state alive.
            host.plugin_manager._hookexec("class_prepared", caller.get_hookimpls(), kwargs, False)

    def attach(self, host: Host) -> None:
        """Forward every built-in signal some implementation of ``host`` listens to,
        from now on, and make Django's transactions known to ``hosthooks.on_commit``
        and to the outbox of deferred calls (beside the runtime's, if it is
        imported too: each call follows the transaction open on its connection).

        ``host`` first receives ``class_prepared`` (historic) for every project model
        prepared so far that it was not given yet, in Django's order. A host
        attached before is replaced; the receivers both want keep their places.
        Attaching the attached host again connects receivers anew for the
        project's models as they are now (after Django rebuilt its registry).
        """
        with self._lock:
            if self._stop_watching is not None:
                self._stop_watching()
                self._stop_watching = None
            self._host = host
            for hook, forward in list(self._forwarders.items()):
                caller = getattr(host.hook, hook)
                if forward.__globals__["spec_names"] == _spec_names(caller):
                    forward.__globals__["call"] = caller
                else:  # another host's spec: a receiver of its own, in a new place
                    self._connect(hook, [])
                    del self._forwarders[hook]
            self._give_prepared(host)
            from hosthooks.django.outbox import django_layer

            self._remove_layer = add_data_layer(django_layer)
            self._stop_watching = host.watch_implementations(self._implementations_changed)

    def detach(self) -> None:
        """Stop forwarding: every receiver of the bridge is disconnected."""
        with self._lock:
            if self._stop_watching is not None:
                self._stop_watching()
                self._stop_watching = None
            for hook in self._connected:
                self._connect(hook, [])
            if self._remove_layer is not None:
                self._remove_layer()
                self._remove_layer = None
            self._host = None

    def _give_prepared(self, host: Host) -> None:
        caller = host.plugin_manager.hook.class_prepared
        given = self._given.get(host, 0)
        for cls in self._prepared[given:]:
            caller.call_historic(kwargs={"sender": cls})
        self._given[host] = len(self._prepared)

    def _implementations_changed(self, hook: str) -> None:
        if hook not in SIGNAL_PATHS or hook == "class_prepared":
            return
        host = self._host
        self._connect(hook, [] if host is None else senders_to_connect(host, hook))

    def _connect(self, hook: str, senders: list[object]) -> None:
        """Connect ``hook``'s receiver for exactly ``senders``: the ones it keeps
        stay where they are in Django's list."""
        with self._lock:
            connected = self._connected.setdefault(hook, {})
            wanted = {id(sender): sender for sender in senders}
            if wanted.keys() == connected.keys():
                return
            signal = built_in_signals()[hook]
            uid = dispatch_uid(hook)
            for key in [key for key in connected if key not in wanted]:
                signal.disconnect(sender=connected.pop(key), dispatch_uid=uid)
            if wanted:
                forward = self._forwarder(hook)
                for key, sender in wanted.items():
                    if key not in connected:
                        signal.connect(forward, sender=sender, weak=False, dispatch_uid=uid)
                        connected[key] = sender
            if hook == "template_rendered":
                send_template_rendered(bool(connected))

    def _forwarder(self, hook: str) -> Callable[..., Any]:
        forward = self._forwarders.get(hook)
        if forward is None:
            assert self._host is not None
            forward = make_forwarder(hook, getattr(self._host.hook, hook))
            self._forwarders[hook] = forward
        return forward


def _spec_names(call: Any) -> tuple[str, ...] | None:
    spec = getattr(call, "spec", None)
    if spec is None:
        return None
    return (*spec.argnames, *spec.kwargnames)


def make_forwarder(hook: str, call: Any) -> Callable[..., Any]:
    """A receiver calling ``call`` (``host.hook.<hook>``) with what Django sends, minus ``signal``.

    Its parameters are the hook's, by name: Django calls receivers by keyword,
    and so does it call the hook, with no dictionary of the arguments built in
    between (a receiver taking ``**kwargs`` builds one, and unpacks it again).
    An argument Django leaves out reaches the hook as the spec's default, or
    None when the spec has none, with no warning: Django sends some signals
    with fewer arguments than usual, and a receiver must take them. One the hook
    does not know is passed on, as Django sent it.

    The receiver's ``__globals__["call"]`` is what it calls: pointing it at another
    host's caller of the same hook moves the receiver to that host, in place.
    """
    spec = call.spec
    names = [*spec.argnames, *spec.kwargnames]
    defaults = {name: spec.kwargdefaults.get(name) for name in names}
    parameters = ", ".join(f"{name}=defaults[{name!r}]" for name in names)
    arguments = ", ".join(f"{name}={name}" for name in names)
    namespace: dict[str, Any] = {"defaults": defaults}
    # Generated, not written out: each hook has its own arguments. The names
    # are the spec's, which pluggy has validated as identifiers.
    exec(
        f"def forward_{hook}(signal, {parameters}, **extra):\n"
        f"    if extra:\n"
        f"        return call({arguments}, **extra)\n"
        f"    return call({arguments})\n",
        {"call": call, "spec_names": (*names,)},
        namespace,
    )
    forward: Callable[..., Any] = namespace[f"forward_{hook}"]
    forward.__module__ = __name__
    return forward


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
