"""The project name and the two markers: a leaf module that imports nothing of hosthooks."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TypeVar
from typing import overload

import pluggy

PROJECT: Final = "hosthooks"
ENTRY_POINT_GROUP: Final = "hosthooks"

#: The option key under which ``@hookimpl(sender=...)`` stores its filter in
#: pluggy's option dict, where it travels to ``HookImpl.opts``.
SENDER_OPTION: Final = "sender"

#: The option keys of ``@hookimpl(defer=True, queue=..., retries=...)``.
DEFER_OPTION: Final = "defer"
QUEUE_OPTION: Final = "queue"
RETRIES_OPTION: Final = "retries"

#: The option keys of ``@hookimpl(before=[...], after=[...])``: plugin names.
BEFORE_OPTION: Final = "before"
AFTER_OPTION: Final = "after"
#: The option key of ``@hookimpl(thread=True)``: under ``await host.ahook.<name>``,
#: this synchronous implementation runs in a worker thread, off the event loop.
THREAD_OPTION: Final = "thread"
#: The option key of ``@hookimpl(when=condition)``: a callable of no arguments,
#: asked before each call of the implementation, which is skipped while it is false.
WHEN_OPTION: Final = "when"

#: The attribute of a deferred implementation's stand-in holding the argument names
#: the implementation itself takes (the stand-in takes every argument of the spec).
DEFERRED_ARGNAMES: Final = "hosthooks_deferred_argnames"

#: What ``sender=`` accepts: a class (or any object, matched by identity), a
#: tuple of them, or a label string such as ``"blog.Article"`` resolved lazily.
SenderFilter = object

_F = TypeVar("_F", bound=Callable[..., object])

hookspec: Final = pluggy.HookspecMarker(PROJECT)


class HookimplMarker:
    """pluggy's implementation marker with more options: ``sender`` and ``defer``.

    ``@hookimpl(sender=Article)`` calls the implementation only when the hook
    is fired with that sender, matched by identity as Django's ``connect(sender=...)``
    does. ``sender`` may be an object, a tuple of objects, or a label string
    (``"app.Model"``, or a module name for string senders) resolved lazily.
    Every pluggy option (``tryfirst``, ``trylast``, ``wrapper``, ``hookwrapper``,
    ``optionalhook``, ``specname``) works as in pluggy.

    ``@hookimpl(before=["other"], after=[...])`` orders the implementation
    relative to the named plugins' within its tier (see :mod:`hosthooks.engine.ordering`).

    ``@hookimpl(defer=True)`` runs the implementation on a worker after the
    transaction commits (see :mod:`hosthooks.deferred`); ``queue=`` names the
    task queue (default ``"hosthooks"``), ``retries=`` how often a run that
    raises is tried again (default 3).

    ``@hookimpl(thread=True)`` marks a synchronous implementation that blocks
    (network, disk): an async call (``await host.ahook.<name>(...)``) runs it in
    a worker thread of its own instead of on the event loop; synchronous calls
    run it inline as always.

    ``@hookimpl(when=condition)`` asks ``condition()`` before each call of the
    implementation and skips the call (as if it returned None) while the answer
    is false: a plugin that has nothing to do until configured costs one call
    of ``condition``, and an ``async def`` implementation reached by a
    synchronous call no event loop. Not for wrappers or deferred implementations.
    """

    __slots__ = ("_pluggy_marker", "project_name")

    def __init__(self, project_name: str) -> None:
        self.project_name: Final = project_name
        # Composition: pluggy's marker is final, and what it writes on the
        # function is exactly what PluginManager.register reads back.
        self._pluggy_marker: Final = pluggy.HookimplMarker(project_name)

    @overload
    def __call__(
        self,
        function: _F,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
        *,
        sender: SenderFilter | None = ...,
        defer: bool = ...,
        queue: str | None = ...,
        retries: int | None = ...,
        before: Sequence[str] = ...,
        after: Sequence[str] = ...,
        thread: bool = ...,
        when: Callable[[], object] | None = ...,
    ) -> _F: ...

    @overload
    def __call__(
        self,
        function: None = ...,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
        *,
        sender: SenderFilter | None = ...,
        defer: bool = ...,
        queue: str | None = ...,
        retries: int | None = ...,
        before: Sequence[str] = ...,
        after: Sequence[str] = ...,
        thread: bool = ...,
        when: Callable[[], object] | None = ...,
    ) -> Callable[[_F], _F]: ...

    def __call__(
        self,
        function: _F | None = None,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
        *,
        sender: SenderFilter | None = None,
        defer: bool = False,
        queue: str | None = None,
        retries: int | None = None,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        thread: bool = False,
        when: Callable[[], object] | None = None,
    ) -> _F | Callable[[_F], _F]:
        def mark(func: _F) -> _F:
            if thread and (
                inspect.iscoroutinefunction(func)
                or inspect.isasyncgenfunction(func)
                or wrapper
                or hookwrapper
            ):
                raise TypeError("thread=True applies only to synchronous plain implementations")
            if when is not None and (not callable(when) or wrapper or hookwrapper or defer):
                raise TypeError(
                    "when= takes a callable of no arguments, for a plain implementation "
                    "that is not deferred"
                )
            marked = self._pluggy_marker(
                func,
                hookwrapper=hookwrapper,
                optionalhook=optionalhook,
                tryfirst=tryfirst,
                trylast=trylast,
                specname=specname,
                wrapper=wrapper,
            )
            opts: dict[str, Any] = getattr(marked, f"{self.project_name}_impl")
            if sender is not None:
                opts[SENDER_OPTION] = sender
            if defer:
                opts[DEFER_OPTION] = True
                opts[QUEUE_OPTION] = queue
                opts[RETRIES_OPTION] = retries
            elif queue is not None or retries is not None:
                raise TypeError("queue= and retries= apply only with defer=True")
            for option, names in ((BEFORE_OPTION, before), (AFTER_OPTION, after)):
                if isinstance(names, str):
                    # One name given bare would otherwise be read letter by letter.
                    raise TypeError(f"{option}= takes a list of plugin names, not a string")
                if names:
                    opts[option] = tuple(names)
            if thread:
                opts[THREAD_OPTION] = True
            if when is not None:
                opts[WHEN_OPTION] = when
            return marked

        if function is None:
            return mark
        return mark(function)


hookimpl: Final = HookimplMarker(PROJECT)
