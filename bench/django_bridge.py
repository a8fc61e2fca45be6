"""Django's post_save through the bridge (``hosthooks.django``) against Django alone.

Contenders, timed in one process with interleaved rounds, each sending post_save's
six keyword arguments:

- ``bridge``: ``post_save.send(...)`` reaching one plugin through the bridge's receiver;
- ``django``: the same ``send`` on a signal with one plain receiver;
- ``bridge-none``: ``pre_save.send(...)`` with the bridge attached and no plugin
  implementing ``pre_save`` (so no receiver connected);
- ``django-none``: the same ``send`` on a signal with no receiver;
- ``bridge-unnamed``: ``post_delete.send(...)`` for a model the one plugin
  implementing ``post_delete`` does not name (``sender=`` another class): the
  bridge's receiver is connected for that class only;
- ``django-unnamed``: the same ``send`` on a signal whose one plain receiver is
  connected for that other class, as Django's own lazy ``sender=`` receivers are.

The plugin's implementation and the plain receiver do nothing, so the ratios are
the whole cost of the bridge.

Run: ``python -m bench.django_bridge [--rounds 15] [--json]`` (needs ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable
from typing import Any

from bench.timing import format_table
from bench.timing import interleaved_medians
from bench.timing import parse_arguments

CONTENDERS = (
    "bridge",
    "django",
    "bridge-none",
    "django-none",
    "bridge-unnamed",
    "django-unnamed",
)


class Article:
    pass


class Comment:
    pass


def _setup_django() -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["hosthooks.django"],
        DATABASES={},
        # Only the plugin registered below: the benchmark measures one implementation.
        HOSTHOOKS={"autoload": False},
    )
    django.setup()


def contenders() -> dict[str, Callable[[int], None]]:
    """Every contender as a loop runner; Django must be set up."""
    from django.db.models.signals import ModelSignal
    from django.db.models.signals import post_delete
    from django.db.models.signals import post_save
    from django.db.models.signals import pre_save

    from hosthooks import hookimpl
    from hosthooks.django.bridge import bridge

    host = bridge.host
    assert host is not None

    def post_save_impl(
        sender: Any,
        instance: Any,
        created: bool,
        raw: bool,
        using: str,
        update_fields: frozenset[str] | None,
    ) -> None:
        pass

    host.register(types.SimpleNamespace(post_save=hookimpl(post_save_impl)), "one")

    def post_delete_impl(sender: Any, instance: Any) -> None:
        pass

    comments_only = hookimpl(sender=Comment)(post_delete_impl)
    host.register(types.SimpleNamespace(post_delete=comments_only), "comments")

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    # What Django's model signals are: caching receivers per sender.
    plain = ModelSignal(use_caching=True)
    plain.connect(receiver, weak=False)
    unheard = ModelSignal(use_caching=True)
    elsewhere = ModelSignal(use_caching=True)
    elsewhere.connect(receiver, sender=Comment, weak=False)
    instance = Article()

    def loop(send: Callable[..., Any]) -> Callable[[int], None]:
        def run(loops: int) -> None:
            for _ in range(loops):
                send(
                    sender=Article,
                    instance=instance,
                    created=True,
                    raw=False,
                    using="default",
                    update_fields=None,
                )

        return run

    return {
        "bridge": loop(post_save.send),
        "django": loop(plain.send),
        "bridge-none": loop(pre_save.send),
        "django-none": loop(unheard.send),
        "bridge-unnamed": loop(post_delete.send),
        "django-unnamed": loop(elsewhere.send),
    }


def measure(rounds: int) -> dict[str, Any]:
    _setup_django()
    medians = interleaved_medians(contenders(), rounds)
    return {
        "median_ns": medians,
        "bridge_vs_django": medians["bridge"] / medians["django"],
        "none_vs_django_none": medians["bridge-none"] / medians["django-none"],
        "unnamed_vs_django_unnamed": medians["bridge-unnamed"] / medians["django-unnamed"],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(__doc__.splitlines()[0] if __doc__ else "", argv, default_rounds=15)
    result = measure(args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    medians = result["median_ns"]
    print(
        f"post_save sent with six keyword arguments; medians of {args.rounds} interleaved "
        f"rounds, Python {sys.version.split()[0]}"
    )
    print(
        format_table(
            [
                *(f"{name} ns" for name in CONTENDERS),
                "bridge/django",
                "none/django-none",
                "unnamed/django-unnamed",
            ],
            [
                [
                    *(f"{medians[name]:.0f}" for name in CONTENDERS),
                    f"{result['bridge_vs_django']:.2f}",
                    f"{result['none_vs_django_none']:.2f}",
                    f"{result['unnamed_vs_django_unnamed']:.2f}",
                ]
            ],
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
