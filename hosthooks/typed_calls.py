"""The types of ``host.hook`` (:class:`Hooks`) and ``host.ahook`` (:class:`AsyncHooks`),
generated from the hookspecs: mypy and pyright check each call's hook name,
argument names and types, and result.

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree. Types only: nothing at
run time is an instance of these classes (``host.hook.<name>`` is a live
``pluggy.HookCaller``), and the host imports this module only for the checkers.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol
from typing import TextIO

import pluggy


class ClassPreparedCaller(pluggy.HookCaller):
    """``host.hook.class_prepared``: historic, fired through ``call_historic`` only."""


class PreInitCaller(pluggy.HookCaller):
    """``host.hook.pre_init``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> list[None]: ...


class PostInitCaller(pluggy.HookCaller):
    """``host.hook.post_init``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
    ) -> list[None]: ...


class PreSaveCaller(pluggy.HookCaller):
    """``host.hook.pre_save``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> list[None]: ...


class PostSaveCaller(pluggy.HookCaller):
    """``host.hook.post_save``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> list[None]: ...


class PreDeleteCaller(pluggy.HookCaller):
    """``host.hook.pre_delete``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> list[None]: ...


class PostDeleteCaller(pluggy.HookCaller):
    """``host.hook.post_delete``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> list[None]: ...


class M2mChangedCaller(pluggy.HookCaller):
    """``host.hook.m2m_changed``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        instance: Any,
        action: str,
        reverse: bool,
        model: type[Any],
        pk_set: set[Any] | None,
        using: str,
        raw: bool = ...,
    ) -> list[None]: ...


class UserLoggedInCaller(pluggy.HookCaller):
    """``host.hook.user_logged_in``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> list[None]: ...


class UserLoggedOutCaller(pluggy.HookCaller):
    """``host.hook.user_logged_out``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> list[None]: ...


class UserLoginFailedCaller(pluggy.HookCaller):
    """``host.hook.user_login_failed``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: str,
        credentials: dict[str, Any],
        request: Any,
    ) -> list[None]: ...


class RequestStartedCaller(pluggy.HookCaller):
    """``host.hook.request_started``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        environ: dict[str, Any] | None = ...,
        scope: dict[str, Any] | None = ...,
    ) -> list[None]: ...


class RequestFinishedCaller(pluggy.HookCaller):
    """``host.hook.request_finished``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
    ) -> list[None]: ...


class GotRequestExceptionCaller(pluggy.HookCaller):
    """``host.hook.got_request_exception``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: None,
        request: Any,
    ) -> list[None]: ...


class PreMigrateCaller(pluggy.HookCaller):
    """``host.hook.pre_migrate``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any = ...,
        plan: list[Any] | None = ...,
        stdout: TextIO | None = ...,
    ) -> list[None]: ...


class PostMigrateCaller(pluggy.HookCaller):
    """``host.hook.post_migrate``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any = ...,
        plan: list[Any] | None = ...,
        stdout: TextIO | None = ...,
    ) -> list[None]: ...


class SettingChangedCaller(pluggy.HookCaller):
    """``host.hook.setting_changed``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        setting: str,
        value: Any,
        enter: bool,
    ) -> list[None]: ...


class TemplateRenderedCaller(pluggy.HookCaller):
    """``host.hook.template_rendered``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: Any,
        template: Any,
        context: dict[str, Any],
    ) -> list[None]: ...


class ConnectionCreatedCaller(pluggy.HookCaller):
    """``host.hook.connection_created``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        connection: Any,
    ) -> list[None]: ...


class PreBulkCreateCaller(pluggy.HookCaller):
    """``host.hook.pre_bulk_create``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> list[None]: ...


class PostBulkCreateCaller(pluggy.HookCaller):
    """``host.hook.post_bulk_create``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> list[None]: ...


class PreBulkUpdateCaller(pluggy.HookCaller):
    """``host.hook.pre_bulk_update``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> list[None]: ...


class PostBulkUpdateCaller(pluggy.HookCaller):
    """``host.hook.post_bulk_update``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> list[None]: ...


class PreQuerysetUpdateCaller(pluggy.HookCaller):
    """``host.hook.pre_queryset_update``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
    ) -> list[None]: ...


class PostQuerysetUpdateCaller(pluggy.HookCaller):
    """``host.hook.post_queryset_update``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> list[None]: ...


class PreQuerysetDeleteCaller(pluggy.HookCaller):
    """``host.hook.pre_queryset_delete``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        queryset: Any,
        using: str,
    ) -> list[None]: ...


class PostQuerysetDeleteCaller(pluggy.HookCaller):
    """``host.hook.post_queryset_delete``: a ``HookCaller`` whose calls are typed."""

    def __call__(  # type: ignore[override,empty-body]
        self,
        *,
        sender: type[Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> list[None]: ...


class Hooks(Protocol):
    """``host.hook``: every hook's live caller."""

    @property
    def class_prepared(self) -> ClassPreparedCaller: ...

    @property
    def pre_init(self) -> PreInitCaller: ...

    @property
    def post_init(self) -> PostInitCaller: ...

    @property
    def pre_save(self) -> PreSaveCaller: ...

    @property
    def post_save(self) -> PostSaveCaller: ...

    @property
    def pre_delete(self) -> PreDeleteCaller: ...

    @property
    def post_delete(self) -> PostDeleteCaller: ...

    @property
    def m2m_changed(self) -> M2mChangedCaller: ...

    @property
    def user_logged_in(self) -> UserLoggedInCaller: ...

    @property
    def user_logged_out(self) -> UserLoggedOutCaller: ...

    @property
    def user_login_failed(self) -> UserLoginFailedCaller: ...

    @property
    def request_started(self) -> RequestStartedCaller: ...

    @property
    def request_finished(self) -> RequestFinishedCaller: ...

    @property
    def got_request_exception(self) -> GotRequestExceptionCaller: ...

    @property
    def pre_migrate(self) -> PreMigrateCaller: ...

    @property
    def post_migrate(self) -> PostMigrateCaller: ...

    @property
    def setting_changed(self) -> SettingChangedCaller: ...

    @property
    def template_rendered(self) -> TemplateRenderedCaller: ...

    @property
    def connection_created(self) -> ConnectionCreatedCaller: ...

    @property
    def pre_bulk_create(self) -> PreBulkCreateCaller: ...

    @property
    def post_bulk_create(self) -> PostBulkCreateCaller: ...

    @property
    def pre_bulk_update(self) -> PreBulkUpdateCaller: ...

    @property
    def post_bulk_update(self) -> PostBulkUpdateCaller: ...

    @property
    def pre_queryset_update(self) -> PreQuerysetUpdateCaller: ...

    @property
    def post_queryset_update(self) -> PostQuerysetUpdateCaller: ...

    @property
    def pre_queryset_delete(self) -> PreQuerysetDeleteCaller: ...

    @property
    def post_queryset_delete(self) -> PostQuerysetDeleteCaller: ...


class AsyncHooks(Protocol):
    """``host.ahook``: every hook's async caller."""

    async def pre_init(
        self,
        *,
        sender: type[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> list[None]: ...

    async def post_init(
        self,
        *,
        sender: type[Any],
        instance: Any,
    ) -> list[None]: ...

    async def pre_save(
        self,
        *,
        sender: type[Any],
        instance: Any,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> list[None]: ...

    async def post_save(
        self,
        *,
        sender: type[Any],
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> list[None]: ...

    async def pre_delete(
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> list[None]: ...

    async def post_delete(
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> list[None]: ...

    async def m2m_changed(
        self,
        *,
        sender: type[Any],
        instance: Any,
        action: str,
        reverse: bool,
        model: type[Any],
        pk_set: set[Any] | None,
        using: str,
        raw: bool = ...,
    ) -> list[None]: ...

    async def user_logged_in(
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> list[None]: ...

    async def user_logged_out(
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> list[None]: ...

    async def user_login_failed(
        self,
        *,
        sender: str,
        credentials: dict[str, Any],
        request: Any,
    ) -> list[None]: ...

    async def request_started(
        self,
        *,
        sender: type[Any],
        environ: dict[str, Any] | None = ...,
        scope: dict[str, Any] | None = ...,
    ) -> list[None]: ...

    async def request_finished(
        self,
        *,
        sender: type[Any],
    ) -> list[None]: ...

    async def got_request_exception(
        self,
        *,
        sender: None,
        request: Any,
    ) -> list[None]: ...

    async def pre_migrate(
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any = ...,
        plan: list[Any] | None = ...,
        stdout: TextIO | None = ...,
    ) -> list[None]: ...

    async def post_migrate(
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any = ...,
        plan: list[Any] | None = ...,
        stdout: TextIO | None = ...,
    ) -> list[None]: ...

    async def setting_changed(
        self,
        *,
        sender: type[Any],
        setting: str,
        value: Any,
        enter: bool,
    ) -> list[None]: ...

    async def template_rendered(
        self,
        *,
        sender: Any,
        template: Any,
        context: dict[str, Any],
    ) -> list[None]: ...

    async def connection_created(
        self,
        *,
        sender: type[Any],
        connection: Any,
    ) -> list[None]: ...

    async def pre_bulk_create(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> list[None]: ...

    async def post_bulk_create(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> list[None]: ...

    async def pre_bulk_update(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> list[None]: ...

    async def post_bulk_update(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> list[None]: ...

    async def pre_queryset_update(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
    ) -> list[None]: ...

    async def post_queryset_update(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> list[None]: ...

    async def pre_queryset_delete(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        using: str,
    ) -> list[None]: ...

    async def post_queryset_delete(
        self,
        *,
        sender: type[Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> list[None]: ...
