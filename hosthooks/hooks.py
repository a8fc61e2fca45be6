"""Typed hook implementations, generated from the hookspecs.

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree.

``@hooks.<name>`` is ``@hookimpl`` for that hook, checked by mypy and pyright
against its spec: an implementation takes the spec's arguments (any order, any names it
does not use gathered by ``**_: object``), with types the spec's values fit,
and returns the spec's result (``async def`` too)::

    from typing import Any

    from hosthooks import hooks

    @hooks.post_save
    def audit(sender: type[Any], instance: Any, created: bool, **_: object) -> None: ...

    @hooks.post_delete.options(sender="blog.Article", defer=True)
    def forget(instance: Any, **_: object) -> None: ...

Wrappers keep ``@hookimpl(wrapper=True)``: their results are not the spec's.
The calls' side, ``host.hook`` and ``host.ahook``, is typed by :mod:`hosthooks.typed_calls`.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TypeVar

from hosthooks import typed_implementations
from hosthooks.markers import SenderFilter
from hosthooks.markers import hookimpl

_Marked = TypeVar("_Marked", bound="_TypedMarker")


class _TypedMarker:
    """``@hookimpl(specname=<hook>, **options)``: the runtime half of every ``hooks.<name>``."""

    __slots__ = ("_name", "_options")

    def __init__(self, name: str, options: dict[str, Any] | None = None) -> None:
        self._name: Final = name
        self._options: Final = options or {}

    def _mark(self, function: Callable[..., object]) -> None:
        hookimpl(function, specname=self._name, **self._options)

    def options(
        self: _Marked,
        *,
        sender: SenderFilter | None = None,
        tryfirst: bool = False,
        trylast: bool = False,
        defer: bool = False,
        queue: str | None = None,
        retries: int | None = None,
        before: Sequence[str] = (),
        after: Sequence[str] = (),
        thread: bool = False,
        when: Callable[[], object] | None = None,
    ) -> _Marked:
        """The same marker with :data:`hosthooks.hookimpl`'s options (as it checks them)."""
        options = {
            "sender": sender,
            "tryfirst": tryfirst,
            "trylast": trylast,
            "defer": defer,
            "queue": queue,
            "retries": retries,
            "before": before,
            "after": after,
            "thread": thread,
            "when": when,
        }
        return type(self)(self._name, options)

    def __repr__(self) -> str:
        return f"<typed hookimpl marker {self._name}>"


_ClassPreparedT = TypeVar(
    "_ClassPreparedT", bound=typed_implementations.ClassPreparedImplementation
)
_ClassPreparedMethodT = TypeVar(
    "_ClassPreparedMethodT", bound=typed_implementations.ClassPreparedMethod
)


class ClassPreparedMarker(_TypedMarker):
    """``@hookimpl`` for ``class_prepared``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _ClassPreparedT, /) -> _ClassPreparedT:
        self._mark(function)
        return function

    def method(self, function: _ClassPreparedMethodT, /) -> _ClassPreparedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


class_prepared: Final = ClassPreparedMarker("class_prepared")


_PreInitT = TypeVar("_PreInitT", bound=typed_implementations.PreInitImplementation)
_PreInitMethodT = TypeVar("_PreInitMethodT", bound=typed_implementations.PreInitMethod)


class PreInitMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_init``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreInitT, /) -> _PreInitT:
        self._mark(function)
        return function

    def method(self, function: _PreInitMethodT, /) -> _PreInitMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_init: Final = PreInitMarker("pre_init")


_PostInitT = TypeVar("_PostInitT", bound=typed_implementations.PostInitImplementation)
_PostInitMethodT = TypeVar("_PostInitMethodT", bound=typed_implementations.PostInitMethod)


class PostInitMarker(_TypedMarker):
    """``@hookimpl`` for ``post_init``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostInitT, /) -> _PostInitT:
        self._mark(function)
        return function

    def method(self, function: _PostInitMethodT, /) -> _PostInitMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_init: Final = PostInitMarker("post_init")


_PreSaveT = TypeVar("_PreSaveT", bound=typed_implementations.PreSaveImplementation)
_PreSaveMethodT = TypeVar("_PreSaveMethodT", bound=typed_implementations.PreSaveMethod)


class PreSaveMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_save``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreSaveT, /) -> _PreSaveT:
        self._mark(function)
        return function

    def method(self, function: _PreSaveMethodT, /) -> _PreSaveMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_save: Final = PreSaveMarker("pre_save")


_PostSaveT = TypeVar("_PostSaveT", bound=typed_implementations.PostSaveImplementation)
_PostSaveMethodT = TypeVar("_PostSaveMethodT", bound=typed_implementations.PostSaveMethod)


class PostSaveMarker(_TypedMarker):
    """``@hookimpl`` for ``post_save``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostSaveT, /) -> _PostSaveT:
        self._mark(function)
        return function

    def method(self, function: _PostSaveMethodT, /) -> _PostSaveMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_save: Final = PostSaveMarker("post_save")


_PreDeleteT = TypeVar("_PreDeleteT", bound=typed_implementations.PreDeleteImplementation)
_PreDeleteMethodT = TypeVar("_PreDeleteMethodT", bound=typed_implementations.PreDeleteMethod)


class PreDeleteMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_delete``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreDeleteT, /) -> _PreDeleteT:
        self._mark(function)
        return function

    def method(self, function: _PreDeleteMethodT, /) -> _PreDeleteMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_delete: Final = PreDeleteMarker("pre_delete")


_PostDeleteT = TypeVar("_PostDeleteT", bound=typed_implementations.PostDeleteImplementation)
_PostDeleteMethodT = TypeVar("_PostDeleteMethodT", bound=typed_implementations.PostDeleteMethod)


class PostDeleteMarker(_TypedMarker):
    """``@hookimpl`` for ``post_delete``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostDeleteT, /) -> _PostDeleteT:
        self._mark(function)
        return function

    def method(self, function: _PostDeleteMethodT, /) -> _PostDeleteMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_delete: Final = PostDeleteMarker("post_delete")


_M2mChangedT = TypeVar("_M2mChangedT", bound=typed_implementations.M2mChangedImplementation)
_M2mChangedMethodT = TypeVar("_M2mChangedMethodT", bound=typed_implementations.M2mChangedMethod)


class M2mChangedMarker(_TypedMarker):
    """``@hookimpl`` for ``m2m_changed``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _M2mChangedT, /) -> _M2mChangedT:
        self._mark(function)
        return function

    def method(self, function: _M2mChangedMethodT, /) -> _M2mChangedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


m2m_changed: Final = M2mChangedMarker("m2m_changed")


_UserLoggedInT = TypeVar("_UserLoggedInT", bound=typed_implementations.UserLoggedInImplementation)
_UserLoggedInMethodT = TypeVar(
    "_UserLoggedInMethodT", bound=typed_implementations.UserLoggedInMethod
)


class UserLoggedInMarker(_TypedMarker):
    """``@hookimpl`` for ``user_logged_in``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _UserLoggedInT, /) -> _UserLoggedInT:
        self._mark(function)
        return function

    def method(self, function: _UserLoggedInMethodT, /) -> _UserLoggedInMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


user_logged_in: Final = UserLoggedInMarker("user_logged_in")


_UserLoggedOutT = TypeVar(
    "_UserLoggedOutT", bound=typed_implementations.UserLoggedOutImplementation
)
_UserLoggedOutMethodT = TypeVar(
    "_UserLoggedOutMethodT", bound=typed_implementations.UserLoggedOutMethod
)


class UserLoggedOutMarker(_TypedMarker):
    """``@hookimpl`` for ``user_logged_out``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _UserLoggedOutT, /) -> _UserLoggedOutT:
        self._mark(function)
        return function

    def method(self, function: _UserLoggedOutMethodT, /) -> _UserLoggedOutMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


user_logged_out: Final = UserLoggedOutMarker("user_logged_out")


_UserLoginFailedT = TypeVar(
    "_UserLoginFailedT", bound=typed_implementations.UserLoginFailedImplementation
)
_UserLoginFailedMethodT = TypeVar(
    "_UserLoginFailedMethodT", bound=typed_implementations.UserLoginFailedMethod
)


class UserLoginFailedMarker(_TypedMarker):
    """``@hookimpl`` for ``user_login_failed``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _UserLoginFailedT, /) -> _UserLoginFailedT:
        self._mark(function)
        return function

    def method(self, function: _UserLoginFailedMethodT, /) -> _UserLoginFailedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


user_login_failed: Final = UserLoginFailedMarker("user_login_failed")


_RequestStartedT = TypeVar(
    "_RequestStartedT", bound=typed_implementations.RequestStartedImplementation
)
_RequestStartedMethodT = TypeVar(
    "_RequestStartedMethodT", bound=typed_implementations.RequestStartedMethod
)


class RequestStartedMarker(_TypedMarker):
    """``@hookimpl`` for ``request_started``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _RequestStartedT, /) -> _RequestStartedT:
        self._mark(function)
        return function

    def method(self, function: _RequestStartedMethodT, /) -> _RequestStartedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


request_started: Final = RequestStartedMarker("request_started")


_RequestFinishedT = TypeVar(
    "_RequestFinishedT", bound=typed_implementations.RequestFinishedImplementation
)
_RequestFinishedMethodT = TypeVar(
    "_RequestFinishedMethodT", bound=typed_implementations.RequestFinishedMethod
)


class RequestFinishedMarker(_TypedMarker):
    """``@hookimpl`` for ``request_finished``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _RequestFinishedT, /) -> _RequestFinishedT:
        self._mark(function)
        return function

    def method(self, function: _RequestFinishedMethodT, /) -> _RequestFinishedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


request_finished: Final = RequestFinishedMarker("request_finished")


_GotRequestExceptionT = TypeVar(
    "_GotRequestExceptionT", bound=typed_implementations.GotRequestExceptionImplementation
)
_GotRequestExceptionMethodT = TypeVar(
    "_GotRequestExceptionMethodT", bound=typed_implementations.GotRequestExceptionMethod
)


class GotRequestExceptionMarker(_TypedMarker):
    """``@hookimpl`` for ``got_request_exception``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _GotRequestExceptionT, /) -> _GotRequestExceptionT:
        self._mark(function)
        return function

    def method(self, function: _GotRequestExceptionMethodT, /) -> _GotRequestExceptionMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


got_request_exception: Final = GotRequestExceptionMarker("got_request_exception")


_PreMigrateT = TypeVar("_PreMigrateT", bound=typed_implementations.PreMigrateImplementation)
_PreMigrateMethodT = TypeVar("_PreMigrateMethodT", bound=typed_implementations.PreMigrateMethod)


class PreMigrateMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_migrate``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreMigrateT, /) -> _PreMigrateT:
        self._mark(function)
        return function

    def method(self, function: _PreMigrateMethodT, /) -> _PreMigrateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_migrate: Final = PreMigrateMarker("pre_migrate")


_PostMigrateT = TypeVar("_PostMigrateT", bound=typed_implementations.PostMigrateImplementation)
_PostMigrateMethodT = TypeVar("_PostMigrateMethodT", bound=typed_implementations.PostMigrateMethod)


class PostMigrateMarker(_TypedMarker):
    """``@hookimpl`` for ``post_migrate``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostMigrateT, /) -> _PostMigrateT:
        self._mark(function)
        return function

    def method(self, function: _PostMigrateMethodT, /) -> _PostMigrateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_migrate: Final = PostMigrateMarker("post_migrate")


_SettingChangedT = TypeVar(
    "_SettingChangedT", bound=typed_implementations.SettingChangedImplementation
)
_SettingChangedMethodT = TypeVar(
    "_SettingChangedMethodT", bound=typed_implementations.SettingChangedMethod
)


class SettingChangedMarker(_TypedMarker):
    """``@hookimpl`` for ``setting_changed``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _SettingChangedT, /) -> _SettingChangedT:
        self._mark(function)
        return function

    def method(self, function: _SettingChangedMethodT, /) -> _SettingChangedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


setting_changed: Final = SettingChangedMarker("setting_changed")


_TemplateRenderedT = TypeVar(
    "_TemplateRenderedT", bound=typed_implementations.TemplateRenderedImplementation
)
_TemplateRenderedMethodT = TypeVar(
    "_TemplateRenderedMethodT", bound=typed_implementations.TemplateRenderedMethod
)


class TemplateRenderedMarker(_TypedMarker):
    """``@hookimpl`` for ``template_rendered``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _TemplateRenderedT, /) -> _TemplateRenderedT:
        self._mark(function)
        return function

    def method(self, function: _TemplateRenderedMethodT, /) -> _TemplateRenderedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


template_rendered: Final = TemplateRenderedMarker("template_rendered")


_ConnectionCreatedT = TypeVar(
    "_ConnectionCreatedT", bound=typed_implementations.ConnectionCreatedImplementation
)
_ConnectionCreatedMethodT = TypeVar(
    "_ConnectionCreatedMethodT", bound=typed_implementations.ConnectionCreatedMethod
)


class ConnectionCreatedMarker(_TypedMarker):
    """``@hookimpl`` for ``connection_created``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _ConnectionCreatedT, /) -> _ConnectionCreatedT:
        self._mark(function)
        return function

    def method(self, function: _ConnectionCreatedMethodT, /) -> _ConnectionCreatedMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


connection_created: Final = ConnectionCreatedMarker("connection_created")


_PreBulkCreateT = TypeVar(
    "_PreBulkCreateT", bound=typed_implementations.PreBulkCreateImplementation
)
_PreBulkCreateMethodT = TypeVar(
    "_PreBulkCreateMethodT", bound=typed_implementations.PreBulkCreateMethod
)


class PreBulkCreateMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_bulk_create``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreBulkCreateT, /) -> _PreBulkCreateT:
        self._mark(function)
        return function

    def method(self, function: _PreBulkCreateMethodT, /) -> _PreBulkCreateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_bulk_create: Final = PreBulkCreateMarker("pre_bulk_create")


_PostBulkCreateT = TypeVar(
    "_PostBulkCreateT", bound=typed_implementations.PostBulkCreateImplementation
)
_PostBulkCreateMethodT = TypeVar(
    "_PostBulkCreateMethodT", bound=typed_implementations.PostBulkCreateMethod
)


class PostBulkCreateMarker(_TypedMarker):
    """``@hookimpl`` for ``post_bulk_create``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostBulkCreateT, /) -> _PostBulkCreateT:
        self._mark(function)
        return function

    def method(self, function: _PostBulkCreateMethodT, /) -> _PostBulkCreateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_bulk_create: Final = PostBulkCreateMarker("post_bulk_create")


_PreBulkUpdateT = TypeVar(
    "_PreBulkUpdateT", bound=typed_implementations.PreBulkUpdateImplementation
)
_PreBulkUpdateMethodT = TypeVar(
    "_PreBulkUpdateMethodT", bound=typed_implementations.PreBulkUpdateMethod
)


class PreBulkUpdateMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_bulk_update``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreBulkUpdateT, /) -> _PreBulkUpdateT:
        self._mark(function)
        return function

    def method(self, function: _PreBulkUpdateMethodT, /) -> _PreBulkUpdateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_bulk_update: Final = PreBulkUpdateMarker("pre_bulk_update")


_PostBulkUpdateT = TypeVar(
    "_PostBulkUpdateT", bound=typed_implementations.PostBulkUpdateImplementation
)
_PostBulkUpdateMethodT = TypeVar(
    "_PostBulkUpdateMethodT", bound=typed_implementations.PostBulkUpdateMethod
)


class PostBulkUpdateMarker(_TypedMarker):
    """``@hookimpl`` for ``post_bulk_update``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostBulkUpdateT, /) -> _PostBulkUpdateT:
        self._mark(function)
        return function

    def method(self, function: _PostBulkUpdateMethodT, /) -> _PostBulkUpdateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_bulk_update: Final = PostBulkUpdateMarker("post_bulk_update")


_PreQuerysetUpdateT = TypeVar(
    "_PreQuerysetUpdateT", bound=typed_implementations.PreQuerysetUpdateImplementation
)
_PreQuerysetUpdateMethodT = TypeVar(
    "_PreQuerysetUpdateMethodT", bound=typed_implementations.PreQuerysetUpdateMethod
)


class PreQuerysetUpdateMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_queryset_update``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreQuerysetUpdateT, /) -> _PreQuerysetUpdateT:
        self._mark(function)
        return function

    def method(self, function: _PreQuerysetUpdateMethodT, /) -> _PreQuerysetUpdateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_queryset_update: Final = PreQuerysetUpdateMarker("pre_queryset_update")


_PostQuerysetUpdateT = TypeVar(
    "_PostQuerysetUpdateT", bound=typed_implementations.PostQuerysetUpdateImplementation
)
_PostQuerysetUpdateMethodT = TypeVar(
    "_PostQuerysetUpdateMethodT", bound=typed_implementations.PostQuerysetUpdateMethod
)


class PostQuerysetUpdateMarker(_TypedMarker):
    """``@hookimpl`` for ``post_queryset_update``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostQuerysetUpdateT, /) -> _PostQuerysetUpdateT:
        self._mark(function)
        return function

    def method(self, function: _PostQuerysetUpdateMethodT, /) -> _PostQuerysetUpdateMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_queryset_update: Final = PostQuerysetUpdateMarker("post_queryset_update")


_PreQuerysetDeleteT = TypeVar(
    "_PreQuerysetDeleteT", bound=typed_implementations.PreQuerysetDeleteImplementation
)
_PreQuerysetDeleteMethodT = TypeVar(
    "_PreQuerysetDeleteMethodT", bound=typed_implementations.PreQuerysetDeleteMethod
)


class PreQuerysetDeleteMarker(_TypedMarker):
    """``@hookimpl`` for ``pre_queryset_delete``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PreQuerysetDeleteT, /) -> _PreQuerysetDeleteT:
        self._mark(function)
        return function

    def method(self, function: _PreQuerysetDeleteMethodT, /) -> _PreQuerysetDeleteMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


pre_queryset_delete: Final = PreQuerysetDeleteMarker("pre_queryset_delete")


_PostQuerysetDeleteT = TypeVar(
    "_PostQuerysetDeleteT", bound=typed_implementations.PostQuerysetDeleteImplementation
)
_PostQuerysetDeleteMethodT = TypeVar(
    "_PostQuerysetDeleteMethodT", bound=typed_implementations.PostQuerysetDeleteMethod
)


class PostQuerysetDeleteMarker(_TypedMarker):
    """``@hookimpl`` for ``post_queryset_delete``, checked against its spec."""

    __slots__ = ()

    def __call__(self, function: _PostQuerysetDeleteT, /) -> _PostQuerysetDeleteT:
        self._mark(function)
        return function

    def method(self, function: _PostQuerysetDeleteMethodT, /) -> _PostQuerysetDeleteMethodT:
        """The same for a method of a plugin class."""
        self._mark(function)
        return function


post_queryset_delete: Final = PostQuerysetDeleteMarker("post_queryset_delete")
