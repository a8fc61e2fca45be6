"""The host runtime: models on SQLite or PostgreSQL firing the model hooks with Django's semantics.

Each module is the only place its hooks are fired: ``db`` (connection_created),
``models``, ``deletion`` and ``relations`` (the model hooks; ``queries`` fires
through them), ``migrations`` (pre_migrate, post_migrate).
"""

from __future__ import annotations

from hosthooks.runtime import fields
from hosthooks.runtime.db import Database
from hosthooks.runtime.db import DatabaseError
from hosthooks.runtime.db import IntegrityError
from hosthooks.runtime.db import SerializationError
from hosthooks.runtime.db import TransactionManagementError
from hosthooks.runtime.db import atomic
from hosthooks.runtime.db import get_database
from hosthooks.runtime.db import on_commit
from hosthooks.runtime.deletion import ProtectedError
from hosthooks.runtime.migrations import Operation
from hosthooks.runtime.migrations import migrate
from hosthooks.runtime.models import Model
from hosthooks.runtime.models import MultipleObjectsReturned
from hosthooks.runtime.models import ObjectDoesNotExist
from hosthooks.runtime.queries import QuerySet

__all__ = [
    "Database",
    "DatabaseError",
    "IntegrityError",
    "Model",
    "MultipleObjectsReturned",
    "ObjectDoesNotExist",
    "Operation",
    "ProtectedError",
    "QuerySet",
    "SerializationError",
    "TransactionManagementError",
    "atomic",
    "fields",
    "get_database",
    "migrate",
    "on_commit",
]
