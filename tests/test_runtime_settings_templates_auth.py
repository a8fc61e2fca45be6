"""Settings overrides, templates and auth, in process, with a recording plugin."""

from __future__ import annotations

import logging
from typing import Any

import jinja2
import pytest

from hosthooks import hookimpl
from hosthooks.runtime import Database
from hosthooks.runtime import auth
from hosthooks.runtime import migrate
from hosthooks.runtime.sessions import Session
from hosthooks.runtime.settings import Settings
from hosthooks.runtime.settings import SettingsError
from hosthooks.runtime.settings import get_settings
from hosthooks.runtime.templates import Templates
from tests.conftest import Recorder
from tests.serving import PASSWORD

# -- settings ----------------------------------------------------------------


def test_settings_come_from_defaults_file_and_environment(tmp_path):
    settings_file = tmp_path / "hosthooks.toml"
    settings_file.write_text('database = "from-file.sqlite3"\nDEBUG = true\nmax_body_size = 10\n')
    settings = Settings(
        {
            "HOSTHOOKS_SETTINGS_FILE": str(settings_file),
            "HOSTHOOKS_MAX_BODY_SIZE": "2048",
        }
    )
    database = settings.DATABASE
    assert database == str(tmp_path / "from-file.sqlite3")  # relative to the file
    assert settings.DEBUG is True
    assert settings.MAX_BODY_SIZE == 2048  # the environment beats the file
    assert settings.SESSION_COOKIE_NAME == "hosthooks_session"
    with pytest.raises(AttributeError, match="read-only"):
        settings.DEBUG = False
    with pytest.raises(AttributeError, match="no setting named 'NOPE'"):
        _ = settings.NOPE


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"HOSTHOOKS_MAX_BODY_SIZE": "big"},
            "HOSTHOOKS_MAX_BODY_SIZE: 'big' is not a whole number",
        ),
        ({"HOSTHOOKS_DEBUG": "maybe"}, "HOSTHOOKS_DEBUG: 'maybe' is not a boolean"),
        (
            {"HOSTHOOKS_SETTINGS_FILE": "/no/such/file.toml"},
            "configuration file '/no/such/file.toml' does not exist",
        ),
    ],
)
def test_bad_settings_are_one_clear_error(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings(environ)


def test_a_bad_settings_file_names_the_problem(tmp_path):
    broken, unknown = tmp_path / "broken.toml", tmp_path / "unknown.toml"
    broken.write_text("debug = \n")
    unknown.write_text("colour = 'red'\n")
    with pytest.raises(SettingsError, match="is not valid TOML"):
        Settings({"HOSTHOOKS_SETTINGS_FILE": str(broken)})
    with pytest.raises(SettingsError, match="colour: unknown key"):
        Settings({"HOSTHOOKS_SETTINGS_FILE": str(unknown)})


def test_override_fires_on_entry_and_exit_even_when_the_body_raises(default_host):
    recorder = Recorder()
    default_host.register(recorder)
    settings = Settings({})
    with pytest.raises(KeyError), settings.override(DEBUG=True, EXTRA="new"):
        assert settings.DEBUG is True
        assert settings.EXTRA == "new"
        raise KeyError("body failed")
    assert settings.DEBUG is False
    with pytest.raises(AttributeError):
        _ = settings.EXTRA
    changes = [(c["setting"], c["value"], c["enter"]) for c in recorder.named("setting_changed")]
    assert changes == [
        ("DEBUG", True, True),
        ("EXTRA", "new", True),
        ("DEBUG", False, False),
        ("EXTRA", None, False),
    ]
    assert all(c["sender"] is Settings for c in recorder.named("setting_changed"))


def test_override_as_a_decorator_nests(default_host):
    settings = Settings({})

    @settings.override(MAX_BODY_SIZE=5)
    def inner() -> Any:
        with settings.override(MAX_BODY_SIZE=6):
            assert settings.MAX_BODY_SIZE == 6
        return settings.MAX_BODY_SIZE

    assert inner() == 5
    assert settings.MAX_BODY_SIZE == 1024 * 1024


def test_exit_notifications_are_robust_and_the_first_error_is_raised(default_host, caplog):
    seen: list[Any] = []

    class FailsOnExit:
        @hookimpl(tryfirst=True)
        def setting_changed(self, setting, enter):
            if not enter:
                raise ValueError(f"cannot restore {setting}")

    class Watcher:
        @hookimpl
        def setting_changed(self, setting, value, enter):
            seen.append((setting, value, enter))

    default_host.register(Watcher(), "watcher")
    default_host.register(FailsOnExit(), "fails")
    settings = Settings({})
    with (
        caplog.at_level(logging.ERROR, logger="hosthooks"),
        pytest.raises(ValueError, match="cannot restore DEBUG"),
        settings.override(DEBUG=True, MAX_BODY_SIZE=1),
    ):
        pass
    # Every exit notification reached the watcher although the other plugin raised.
    assert seen == [
        ("DEBUG", True, True),
        ("MAX_BODY_SIZE", 1, True),
        ("DEBUG", False, False),
        ("MAX_BODY_SIZE", 1024 * 1024, False),
    ]
    assert settings.DEBUG is False
    assert "plugin 'fails' raised in hook 'setting_changed'" in caplog.text


def test_a_failing_entry_notification_undoes_the_override(default_host):
    class RefusesDebug:
        @hookimpl
        def setting_changed(self, setting, value, enter):
            if enter and setting == "DEBUG":
                raise RuntimeError("no debug here")

    default_host.register(RefusesDebug())
    settings = Settings({})
    with pytest.raises(RuntimeError, match="no debug here"), settings.override(DEBUG=True):
        pytest.fail("the body must not run")
    assert settings.DEBUG is False


# -- templates ---------------------------------------------------------------


def test_templates_escape_and_fire_template_rendered(tmp_path, default_host):
    recorder = Recorder()
    default_host.register(recorder)
    (tmp_path / "hello.html").write_text("<p>{{ name }}</p>{{ trusted|safe }}")
    templates = Templates([tmp_path])
    output = templates.render("hello.html", {"name": "<b>&'\"", "trusted": "<i>ok</i>"})
    assert output == "<p>&lt;b&gt;&amp;&#39;&#34;</p><i>ok</i>"
    [call] = recorder.named("template_rendered")
    assert call["sender"] is call["template"]
    assert call["template"].name == "hello.html"
    assert call["context"] == {"name": "<b>&'\"", "trusted": "<i>ok</i>"}


def test_template_errors_are_clear_and_fire_nothing(tmp_path, default_host):
    recorder = Recorder()
    default_host.register(recorder)
    (tmp_path / "typo.html").write_text("{{ nmae }}")
    templates = Templates([tmp_path])
    with pytest.raises(jinja2.UndefinedError, match="'nmae' is undefined"):
        templates.render("typo.html", {"name": "x"})
    with pytest.raises(jinja2.TemplateNotFound):
        templates.render("missing.html")
    assert recorder.named("template_rendered") == []


# -- auth --------------------------------------------------------------------


class FakeRequest:
    def __init__(self) -> None:
        self.session = Session()
        self.user: Any = None


@pytest.fixture
def users(tmp_path, default_host):
    database = Database(tmp_path / "auth.sqlite3")
    migrate(database, models=list(auth.MODELS), verbosity=0)
    default_host.load_builtin_plugins()
    yield database
    database.close()


def test_passwords_are_hashed_with_scrypt_and_checked():
    encoded = auth.hash_password("pässword")
    algorithm, n, r, p, salt, digest = encoded.split("$")
    assert (algorithm, n, r, p) == ("scrypt", "16384", "8", "1")
    assert auth.verify_password("pässword", encoded)
    assert not auth.verify_password("password", encoded)
    assert auth.hash_password("pässword") != encoded  # a new salt each time
    assert not auth.verify_password("x", "garbage")
    assert not auth.verify_password("x", "md5$1$2$3$4$5")
    with pytest.raises(auth.AuthError, match="may not be empty"):
        auth.hash_password("")


def test_credentials_are_cleansed_like_djangos():
    cleansed = auth.cleanse_credentials(
        {
            "username": "ann",
            "password": "p",
            "api_key": "k",
            "Token": "t",
            "SECRET": "s",
            "signature": "g",
            "apikey": "a",
            "keyboard": "q",
            "email": "e",
        }
    )
    assert cleansed == {
        "username": "ann",
        "password": auth.CLEANSED,
        "api_key": auth.CLEANSED,
        "Token": auth.CLEANSED,
        "SECRET": auth.CLEANSED,
        "signature": auth.CLEANSED,
        "apikey": auth.CLEANSED,
        "keyboard": auth.CLEANSED,
        "email": "e",
    }
    assert auth.CLEANSED == "********************"


def test_authenticate_login_logout(users, default_host):
    recorder = Recorder()
    default_host.register(recorder)
    user = auth.create_user("ann", "right password")
    request = FakeRequest()
    assert auth.authenticate(request, username="ann", password="wrong", api_token="t") is None
    assert auth.authenticate(request, username="nobody", password="right password") is None
    assert auth.authenticate(request, username="ann", password="") is None
    [first, second, third] = recorder.named("user_login_failed")
    assert first == {
        "sender": "hosthooks.runtime.auth",
        "request": request,
        "credentials": {"username": "ann", "password": auth.CLEANSED, "api_token": auth.CLEANSED},
    }
    assert second["credentials"]["username"] == "nobody"
    assert third["credentials"]["password"] == auth.CLEANSED
    found = auth.authenticate(request, username="ann", password="right password")
    assert found == user
    key_before = request.session.key
    request.session["csrf_token"] = "before-login"
    auth.login(request, found)
    assert request.session.key != key_before
    assert "csrf_token" not in request.session  # rotated with the key
    assert request.session["uid"] == user.pk
    [logged_in] = recorder.named("user_logged_in")
    assert (logged_in["sender"], logged_in["user"]) == (auth.User, found)
    user.refresh_from_db()
    assert user.last_login is not None
    assert auth.get_user(request.session) == user
    copied = Session(dict(request.session), key=request.session.key)
    auth.logout(request)
    assert auth.get_user(copied) is None  # the server forgot the session
    [logged_out] = recorder.named("user_logged_out")
    assert (logged_out["sender"], logged_out["user"]) == (auth.User, found)
    assert dict(request.session) == {}
    assert request.user is None


def test_a_second_user_logging_in_on_a_session_starts_afresh(users):
    ann, bob = auth.create_user("ann", "ann's password"), auth.create_user("bob", "bob's password")
    request = FakeRequest()
    auth.login(request, ann)
    request.session["cart"] = "ann's"
    auth.login(request, bob)
    assert dict(request.session) == {"uid": bob.pk}


def test_a_password_change_forgets_every_other_session(users):
    ann = auth.create_user("ann", "old password")
    here, elsewhere = FakeRequest(), FakeRequest()
    auth.login(here, ann)
    auth.login(elsewhere, ann)
    key_before = here.session.key
    auth.change_password(here, ann, "new password")
    assert here.session.key != key_before
    assert auth.get_user(here.session) == ann
    assert auth.get_user(elsewhere.session) is None
    assert auth.User.objects.get(pk=ann.pk).check_password("new password")
    for refused, problem in (
        ("", "must have at least 8 characters"),
        ("short", "must have at least 8 characters"),
        ("x" * 1025, "may have at most 1024 characters"),
    ):
        with pytest.raises(auth.AuthError, match=problem):
            auth.change_password(here, ann, refused)
    assert auth.User.objects.get(pk=ann.pk).check_password("new password")
    assert auth.get_user(here.session) == ann


def test_a_login_forgets_the_users_sessions_older_than_the_session_max_age(users):
    import datetime

    ann, bob = auth.create_user("ann", "ann's password"), auth.create_user("bob", "bob's password")
    long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
        seconds=get_settings().SESSION_MAX_AGE + 60
    )
    for user, digest in ((ann, "ann-old"), (bob, "bob-old")):
        auth.UserSession.objects.create(key_digest=digest, user=user, created=long_ago)
    auth.UserSession.objects.create(key_digest="ann-recent", user=ann)
    auth.login(FakeRequest(), ann)
    left = sorted(row.key_digest for row in auth.UserSession.objects.all())
    assert len(left) == 3
    assert "ann-old" not in left
    assert {"ann-recent", "bob-old"} <= set(left)  # another user's rows wait for their login


def test_create_user_refuses_bad_input(users):
    auth.create_user("ann", PASSWORD)
    for username, password, message in [
        ("ann", PASSWORD, "is taken"),
        ("ANN", PASSWORD, "'ANN' is taken"),
        ("\uff41nn", PASSWORD, "is taken"),  # a fullwidth a: one name, once normalised
        ("  ", PASSWORD, "username may not be empty"),
        ("bob", "", "password must have at least 8 characters"),
        ("bob", "1234567", "password must have at least 8 characters"),
        ("bob", "x" * 1025, "password may have at most 1024 characters"),
        ("x" * 151, PASSWORD, "at most 150"),
    ]:
        with pytest.raises(auth.AuthError, match=message):
            auth.create_user(username, password)
    assert auth.User.objects.count() == 1
