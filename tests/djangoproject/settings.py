"""A small Django project with the bridge installed: the tests' real project.

``PROJECT_DB`` names its SQLite file; ``PROJECT_HOSTHOOKS`` (JSON) its
``HOSTHOOKS`` setting.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Before any app is loaded: Django's own order of class_prepared, to compare with.
from tests.djangoproject import early  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "tests.djangoproject.library",
    # The models of the scenario tests/comparison runs on both hosts (no migrations).
    "tests.comparison.django_app",
    "hosthooks.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.djangoproject.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES: dict[str, dict[str, Any]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PROJECT_DB", BASE_DIR / "project.sqlite3"),
    }
}
if os.environ.get("PROJECT_POSTGRESQL_DB"):
    # The fault suite's project on PostgreSQL (tests/test_deferred_faults.py).
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PROJECT_POSTGRESQL_DB"],
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
if os.environ.get("PROJECT_SECOND_DB"):
    # A second database with an outbox of its own (manage.py hosthooks deliveries).
    DATABASES["second"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["PROJECT_SECOND_DB"],
    }
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
LOGIN_REDIRECT_URL = "/books/"
# Fast hashing: the tests log in, they do not test password storage.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HOSTHOOKS: dict[str, Any] = json.loads(os.environ.get("PROJECT_HOSTHOOKS", "{}"))
LOGOUT_REDIRECT_URL = "/books/"
