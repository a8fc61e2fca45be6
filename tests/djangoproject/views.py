"""The project's views."""

from __future__ import annotations

from django.http import HttpRequest
from django.http import HttpResponse
from django.shortcuts import render

from tests.djangoproject.library.models import Book


def book_list(request: HttpRequest) -> HttpResponse:
    books = Book.objects.select_related("author").order_by("title")
    return render(request, "library/book_list.html", {"books": books})


class ViewFailed(Exception):
    """What the failing view raises."""


def fail(request: HttpRequest) -> HttpResponse:
    raise ViewFailed("this view always fails")
