"""Templates: Jinja2 with autoescaping; the only place ``template_rendered`` fires."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from hosthooks.host import get_host


class Templates:
    """Renders templates from ``directories`` first, then the runtime's own.

    Every value is HTML-escaped unless marked safe; an undefined variable is an
    error rather than an empty string, so a typo never renders silently.

    :param directories: folders searched before the built-in templates.
    """

    def __init__(self, directories: Sequence[Path] = ()) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(d)) for d in directories]
        loaders.append(jinja2.PackageLoader("hosthooks.runtime", "templates"))
        self.environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def render(self, name: str, context: Mapping[str, Any] | None = None) -> str:
        """Render the template ``name``; fires ``template_rendered`` once it rendered.

        :raises jinja2.TemplateNotFound: when no folder has the template.
        :raises jinja2.UndefinedError: when the template uses a name the context lacks.
        """
        template = self.environment.get_template(name)
        values = dict(context or {})
        output = template.render(values)
        host = get_host()
        if host.has_listeners("template_rendered"):
            host.hook.template_rendered(sender=template, template=template, context=values)
        return output
