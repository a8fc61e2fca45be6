"""The Django bridge: ``INSTALLED_APPS += ["hosthooks.django"]`` runs hosthooks
plugins inside a Django project.

Its app's ``ready()`` (:mod:`hosthooks.django.apps`) creates the process host
from Django's ``HOSTHOOKS`` setting and forwards Django's built-in signals to
its hooks (:mod:`hosthooks.django.bridge`); ``manage.py hosthooks`` lists and
checks what runs (:mod:`hosthooks.django.management.commands.hosthooks`).

Nothing of :mod:`hosthooks.runtime` is imported here, and nothing of hosthooks
imports this package.
"""
