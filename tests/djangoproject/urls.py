"""Books, the auth views, and a view that fails."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from tests.djangoproject import views

urlpatterns = [
    path("books/", views.book_list, name="books"),
    path("fail/", views.fail, name="fail"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
