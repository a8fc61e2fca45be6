"""What each ``@hooks.<name>`` accepts, generated from the hookspecs: callback
protocols of the spec's arguments, keyword-only, returning the spec's result or
an awaitable of it (and, for ``.method``, a plugin class's ``self`` first).

Do not edit: ``python -m hosthooks.authoring.typed_hooks`` writes this file, and a
test fails while it and :mod:`hosthooks.specs` disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from typing import Protocol
from typing import TextIO


class ClassPreparedImplementation(Protocol):
    """What ``@hooks.class_prepared`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
    ) -> Awaitable[None] | None: ...


class ClassPreparedMethod(Protocol):
    """What ``@hooks.class_prepared.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
    ) -> Awaitable[None] | None: ...


class PreInitImplementation(Protocol):
    """What ``@hooks.pre_init`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Awaitable[None] | None: ...


class PreInitMethod(Protocol):
    """What ``@hooks.pre_init.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Awaitable[None] | None: ...


class PostInitImplementation(Protocol):
    """What ``@hooks.post_init`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
    ) -> Awaitable[None] | None: ...


class PostInitMethod(Protocol):
    """What ``@hooks.post_init.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
    ) -> Awaitable[None] | None: ...


class PreSaveImplementation(Protocol):
    """What ``@hooks.pre_save`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> Awaitable[None] | None: ...


class PreSaveMethod(Protocol):
    """What ``@hooks.pre_save.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> Awaitable[None] | None: ...


class PostSaveImplementation(Protocol):
    """What ``@hooks.post_save`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> Awaitable[None] | None: ...


class PostSaveMethod(Protocol):
    """What ``@hooks.post_save.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> Awaitable[None] | None: ...


class PreDeleteImplementation(Protocol):
    """What ``@hooks.pre_delete`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> Awaitable[None] | None: ...


class PreDeleteMethod(Protocol):
    """What ``@hooks.pre_delete.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> Awaitable[None] | None: ...


class PostDeleteImplementation(Protocol):
    """What ``@hooks.post_delete`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> Awaitable[None] | None: ...


class PostDeleteMethod(Protocol):
    """What ``@hooks.post_delete.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
        using: str,
        origin: Any,
    ) -> Awaitable[None] | None: ...


class M2mChangedImplementation(Protocol):
    """What ``@hooks.m2m_changed`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        instance: Any,
        action: str,
        reverse: bool,
        model: type[Any],
        pk_set: set[Any] | None,
        using: str,
        raw: bool,
    ) -> Awaitable[None] | None: ...


class M2mChangedMethod(Protocol):
    """What ``@hooks.m2m_changed.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        instance: Any,
        action: str,
        reverse: bool,
        model: type[Any],
        pk_set: set[Any] | None,
        using: str,
        raw: bool,
    ) -> Awaitable[None] | None: ...


class UserLoggedInImplementation(Protocol):
    """What ``@hooks.user_logged_in`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> Awaitable[None] | None: ...


class UserLoggedInMethod(Protocol):
    """What ``@hooks.user_logged_in.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> Awaitable[None] | None: ...


class UserLoggedOutImplementation(Protocol):
    """What ``@hooks.user_logged_out`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> Awaitable[None] | None: ...


class UserLoggedOutMethod(Protocol):
    """What ``@hooks.user_logged_out.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        request: Any,
        user: Any,
    ) -> Awaitable[None] | None: ...


class UserLoginFailedImplementation(Protocol):
    """What ``@hooks.user_login_failed`` accepts."""

    def __call__(
        self,
        *,
        sender: str,
        credentials: dict[str, Any],
        request: Any,
    ) -> Awaitable[None] | None: ...


class UserLoginFailedMethod(Protocol):
    """What ``@hooks.user_login_failed.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: str,
        credentials: dict[str, Any],
        request: Any,
    ) -> Awaitable[None] | None: ...


class RequestStartedImplementation(Protocol):
    """What ``@hooks.request_started`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        environ: dict[str, Any] | None,
        scope: dict[str, Any] | None,
    ) -> Awaitable[None] | None: ...


class RequestStartedMethod(Protocol):
    """What ``@hooks.request_started.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        environ: dict[str, Any] | None,
        scope: dict[str, Any] | None,
    ) -> Awaitable[None] | None: ...


class RequestFinishedImplementation(Protocol):
    """What ``@hooks.request_finished`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
    ) -> Awaitable[None] | None: ...


class RequestFinishedMethod(Protocol):
    """What ``@hooks.request_finished.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
    ) -> Awaitable[None] | None: ...


class GotRequestExceptionImplementation(Protocol):
    """What ``@hooks.got_request_exception`` accepts."""

    def __call__(
        self,
        *,
        sender: None,
        request: Any,
    ) -> Awaitable[None] | None: ...


class GotRequestExceptionMethod(Protocol):
    """What ``@hooks.got_request_exception.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: None,
        request: Any,
    ) -> Awaitable[None] | None: ...


class PreMigrateImplementation(Protocol):
    """What ``@hooks.pre_migrate`` accepts."""

    def __call__(
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any,
        plan: list[Any] | None,
        stdout: TextIO | None,
    ) -> Awaitable[None] | None: ...


class PreMigrateMethod(Protocol):
    """What ``@hooks.pre_migrate.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any,
        plan: list[Any] | None,
        stdout: TextIO | None,
    ) -> Awaitable[None] | None: ...


class PostMigrateImplementation(Protocol):
    """What ``@hooks.post_migrate`` accepts."""

    def __call__(
        self,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any,
        plan: list[Any] | None,
        stdout: TextIO | None,
    ) -> Awaitable[None] | None: ...


class PostMigrateMethod(Protocol):
    """What ``@hooks.post_migrate.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: Any,
        app_config: Any,
        verbosity: int,
        interactive: bool,
        using: str,
        apps: Any,
        plan: list[Any] | None,
        stdout: TextIO | None,
    ) -> Awaitable[None] | None: ...


class SettingChangedImplementation(Protocol):
    """What ``@hooks.setting_changed`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        setting: str,
        value: Any,
        enter: bool,
    ) -> Awaitable[None] | None: ...


class SettingChangedMethod(Protocol):
    """What ``@hooks.setting_changed.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        setting: str,
        value: Any,
        enter: bool,
    ) -> Awaitable[None] | None: ...


class TemplateRenderedImplementation(Protocol):
    """What ``@hooks.template_rendered`` accepts."""

    def __call__(
        self,
        *,
        sender: Any,
        template: Any,
        context: dict[str, Any],
    ) -> Awaitable[None] | None: ...


class TemplateRenderedMethod(Protocol):
    """What ``@hooks.template_rendered.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: Any,
        template: Any,
        context: dict[str, Any],
    ) -> Awaitable[None] | None: ...


class ConnectionCreatedImplementation(Protocol):
    """What ``@hooks.connection_created`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        connection: Any,
    ) -> Awaitable[None] | None: ...


class ConnectionCreatedMethod(Protocol):
    """What ``@hooks.connection_created.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        connection: Any,
    ) -> Awaitable[None] | None: ...


class PreBulkCreateImplementation(Protocol):
    """What ``@hooks.pre_bulk_create`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PreBulkCreateMethod(Protocol):
    """What ``@hooks.pre_bulk_create.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PostBulkCreateImplementation(Protocol):
    """What ``@hooks.post_bulk_create`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PostBulkCreateMethod(Protocol):
    """What ``@hooks.post_bulk_create.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        objs: list[Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PreBulkUpdateImplementation(Protocol):
    """What ``@hooks.pre_bulk_update`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> Awaitable[None] | None: ...


class PreBulkUpdateMethod(Protocol):
    """What ``@hooks.pre_bulk_update.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> Awaitable[None] | None: ...


class PostBulkUpdateImplementation(Protocol):
    """What ``@hooks.post_bulk_update`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> Awaitable[None] | None: ...


class PostBulkUpdateMethod(Protocol):
    """What ``@hooks.post_bulk_update.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        objs: list[Any],
        fields: frozenset[str],
        using: str,
    ) -> Awaitable[None] | None: ...


class PreQuerysetUpdateImplementation(Protocol):
    """What ``@hooks.pre_queryset_update`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PreQuerysetUpdateMethod(Protocol):
    """What ``@hooks.pre_queryset_update.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
    ) -> Awaitable[None] | None: ...


class PostQuerysetUpdateImplementation(Protocol):
    """What ``@hooks.post_queryset_update`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> Awaitable[None] | None: ...


class PostQuerysetUpdateMethod(Protocol):
    """What ``@hooks.post_queryset_update.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        queryset: Any,
        values: dict[str, Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> Awaitable[None] | None: ...


class PreQuerysetDeleteImplementation(Protocol):
    """What ``@hooks.pre_queryset_delete`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        queryset: Any,
        using: str,
    ) -> Awaitable[None] | None: ...


class PreQuerysetDeleteMethod(Protocol):
    """What ``@hooks.pre_queryset_delete.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        queryset: Any,
        using: str,
    ) -> Awaitable[None] | None: ...


class PostQuerysetDeleteImplementation(Protocol):
    """What ``@hooks.post_queryset_delete`` accepts."""

    def __call__(
        self,
        *,
        sender: type[Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> Awaitable[None] | None: ...


class PostQuerysetDeleteMethod(Protocol):
    """What ``@hooks.post_queryset_delete.method`` accepts: a plugin class's method."""

    def __call__(
        self,
        plugin: Any,
        /,
        *,
        sender: type[Any],
        using: str,
        pks: list[Any] | None,
        count: int,
    ) -> Awaitable[None] | None: ...
