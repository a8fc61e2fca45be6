"""The hook reference, generated from the hookspecs' docstrings (as pytest's is):
per family, each hook's signature, when it fires, its arguments, its flags, the
Django signal it mirrors and a short example implementation, as Markdown or HTML.

The prose lives in :mod:`hosthooks.specs` only; ``docs/hooks.md`` is this
module's output, and a test keeps the committed file equal to it.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Final

from hosthooks import specs

#: Where Django declares each signal a hook mirrors.
DJANGO_SIGNALS: Final = {
    **dict.fromkeys(
        (
            "class_prepared",
            "pre_init",
            "post_init",
            "pre_save",
            "post_save",
            "pre_delete",
            "post_delete",
            "m2m_changed",
            "pre_migrate",
            "post_migrate",
        ),
        "django.db.models.signals",
    ),
    **dict.fromkeys(
        ("user_logged_in", "user_logged_out", "user_login_failed"), "django.contrib.auth.signals"
    ),
    **dict.fromkeys(
        ("request_started", "request_finished", "got_request_exception"), "django.core.signals"
    ),
    "setting_changed": "django.test.signals",
    "template_rendered": "django.test.signals",
    "connection_created": "django.db.backends.signals",
}

#: What the reference says each family is.
FAMILY_TITLES: Final = {
    "models": "Model hooks",
    "auth": "Authentication hooks",
    "requests": "Request hooks",
    "management": "Migration hooks",
    "other": "Settings, template and connection hooks",
    "bulk": "Bulk and queryset hooks (hosthooks' own, not Django signals)",
}

_PARAM: Final = re.compile(r"^:param (\w+):\s*(.*)$")
#: reST inline literals (``x``) become Markdown code spans.
_LITERAL: Final = re.compile(r"``(.+?)``")
#: reST emphasis (*x*), which Markdown reads as it is.
_EMPHASIS: Final = re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])")
#: How many arguments after ``sender`` the example implementation names.
_EXAMPLE_ARGUMENTS: Final = 2


@dataclass(frozen=True)
class Argument:
    """One argument of a hook."""

    name: str
    annotation: str
    #: Its default when firing sites may omit it, as source text; None when required.
    default: str | None
    description: str


@dataclass(frozen=True)
class HookDoc:
    """What the reference says of one hook."""

    name: str
    family: str
    summary: str
    #: The paragraphs after the summary: exactly when it fires, what happens on error.
    details: list[str]
    arguments: list[Argument]
    historic: bool
    firstresult: bool
    #: ``module.name`` of the Django signal mirrored; None for hosthooks' own hooks.
    django_signal: str | None

    @property
    def signature(self) -> str:
        """``post_save(sender, instance, ...)``, with the defaults of optional arguments."""
        shown = [
            argument.name if argument.default is None else f"{argument.name}={argument.default}"
            for argument in self.arguments
        ]
        return f"{self.name}({', '.join(shown)})"

    @property
    def flags(self) -> list[str]:
        return [flag for flag in ("historic", "firstresult") if getattr(self, flag)]

    def example(self) -> str:
        """A short implementation: the sender and the first arguments it may take."""
        names = [argument.name for argument in self.arguments[: 1 + _EXAMPLE_ARGUMENTS]]
        return (
            "from hosthooks import hookimpl\n"
            "\n"
            "\n"
            "@hookimpl\n"
            f"def {self.name}({', '.join(names)}):\n"
            f"    ...  # {self.summary}\n"
        )


def _parse(docstring: str) -> tuple[str, list[str], dict[str, str]]:
    """``(summary, detail paragraphs, {argument: description})`` of a spec's docstring.

    :raises ValueError: when the docstring has no summary line.
    """
    lines = docstring.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError("a hookspec docstring starts with its summary line")
    prose: list[str] = []
    params: dict[str, str] = {}
    current: str | None = None
    for line in lines[1:]:
        found = _PARAM.match(line)
        if found:
            current = found.group(1)
            params[current] = found.group(2).strip()
        elif current is not None and line.strip():
            params[current] = f"{params[current]} {line.strip()}"
        elif current is None:
            prose.append(line)
    paragraphs = [" ".join(block.split()) for block in "\n".join(prose).split("\n\n")]
    return lines[0].strip(), [paragraph for paragraph in paragraphs if paragraph], params


def hook_doc(family: str, function: Callable[..., Any]) -> HookDoc:
    """The reference of one hookspec function.

    :raises ValueError: when an argument has no ``:param:`` line.
    """
    summary, details, params = _parse(inspect.getdoc(function) or "")
    opts: dict[str, Any] = getattr(function, "hosthooks_spec", {}) or {}
    arguments = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name not in params:
            raise ValueError(f"{function.__name__}: argument {parameter.name!r} is undocumented")
        arguments.append(
            Argument(
                name=parameter.name,
                annotation=str(parameter.annotation),
                default=None
                if parameter.default is inspect.Parameter.empty
                else repr(parameter.default),
                description=params[parameter.name],
            )
        )
    return HookDoc(
        name=function.__name__,
        family=family,
        summary=summary,
        details=details,
        arguments=arguments,
        historic=bool(opts.get("historic")),
        firstresult=bool(opts.get("firstresult")),
        django_signal=(
            f"{DJANGO_SIGNALS[function.__name__]}.{function.__name__}"
            if function.__name__ in DJANGO_SIGNALS
            else None
        ),
    )


def hook_docs() -> list[HookDoc]:
    """Every hook's reference, family by family, in the specs' order."""
    return [
        hook_doc(family, getattr(module, name))
        for family, module in specs.FAMILIES.items()
        for name in specs.hook_names(module)
    ]


# -- Markdown -------------------------------------------------------------------


def _markdown_text(text: str) -> str:
    return _LITERAL.sub(r"`\1`", text)


def render_markdown(docs: list[HookDoc] | None = None) -> str:
    """The reference as one Markdown document."""
    docs = hook_docs() if docs is None else docs
    out = [
        "# Hook reference",
        "",
        "<!-- Generated by `hosthooks docs` from the hookspecs in hosthooks/specs/: "
        "edit those, then run `hosthooks docs --output docs/hooks.md`. -->",
        "",
        "Django's built-in signals are hooks under the same names; the bulk and queryset",
        "hooks are hosthooks' own, for the writes Django never signals. An implementation",
        "names only the arguments it needs, as keywords of the spec; `sender=` on",
        "`@hookimpl` filters by sender.",
        "",
    ]
    for family, title in FAMILY_TITLES.items():
        members = [doc for doc in docs if doc.family == family]
        out += [f"## {title}", ""]
        out += [f"- [`{doc.name}`](#{doc.name})" for doc in members]
        out.append("")
        for doc in members:
            out += [f"### {doc.name}", "", f"`{doc.signature}`", "", _markdown_text(doc.summary)]
            out.append("")
            for paragraph in doc.details:
                out += [_markdown_text(paragraph), ""]
            out += [
                "| argument | type | description |",
                "|---|---|---|",
            ]
            for argument in doc.arguments:
                default = f" (default `{argument.default}`)" if argument.default else ""
                description = _markdown_text(argument.description).replace("|", "\\|")
                annotation = argument.annotation.replace("|", "\\|")
                out.append(f"| `{argument.name}` | `{annotation}` | {description}{default} |")
            out.append("")
            flags = ", ".join(doc.flags) or "none"
            mirrors = (
                f"Mirrors Django's `{doc.django_signal}`."
                if doc.django_signal
                else "hosthooks' own hook: Django sends no signal here."
            )
            out += [f"Flags: {flags}. {mirrors}", ""]
            out += ["```python", doc.example().rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


# -- HTML -----------------------------------------------------------------------


def _html_text(text: str) -> str:
    escaped = html.escape(text, quote=False)
    return _EMPHASIS.sub(r"<em>\1</em>", _LITERAL.sub(r"<code>\1</code>", escaped))


def render_html(docs: list[HookDoc] | None = None) -> str:
    """The reference as one standalone HTML page."""
    docs = hook_docs() if docs is None else docs
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>hosthooks: hook reference</title></head>',
        "<body>",
        "<h1>Hook reference</h1>",
    ]
    for family, title in FAMILY_TITLES.items():
        members = [doc for doc in docs if doc.family == family]
        out.append(f'<section id="family-{family}"><h2>{html.escape(title)}</h2>')
        for doc in members:
            out += [
                f'<article id="{doc.name}">',
                f"<h3>{doc.name}</h3>",
                f"<pre><code>{html.escape(doc.signature)}</code></pre>",
                f"<p>{_html_text(doc.summary)}</p>",
                *(f"<p>{_html_text(paragraph)}</p>" for paragraph in doc.details),
                "<table><tr><th>argument</th><th>type</th><th>description</th></tr>",
            ]
            for argument in doc.arguments:
                default = (
                    f" (default <code>{html.escape(argument.default)}</code>)"
                    if argument.default
                    else ""
                )
                out.append(
                    f"<tr><td><code>{argument.name}</code></td>"
                    f"<td><code>{html.escape(argument.annotation)}</code></td>"
                    f"<td>{_html_text(argument.description)}{default}</td></tr>"
                )
            flags = ", ".join(doc.flags) or "none"
            out += [
                "</table>",
                f"<p>Flags: {flags}. "
                + (
                    f"Mirrors Django's <code>{html.escape(doc.django_signal)}</code>.</p>"
                    if doc.django_signal
                    else "hosthooks' own hook: Django sends no signal here.</p>"
                ),
                f'<pre><code class="language-python">{html.escape(doc.example())}</code></pre>',
                "</article>",
            ]
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
