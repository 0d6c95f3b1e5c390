"""`toolwire graph`: the container's providers, what each depends on, what is selected."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import click

from toolwire.commands.common import load_settings
from toolwire.config.profiles import ENV_NAMES
from toolwire.container import ApplicationContainer, create_container
from toolwire.container.introspection import ProviderInfo, describe

FORMATS: Final = ("text", "mermaid", "dot")


@click.command()
@click.option("--format", "format_", type=click.Choice(FORMATS), default="text",
              show_default=True, help="Plain text, a Mermaid flowchart or a Graphviz digraph.")
@click.option("--env", type=click.Choice(ENV_NAMES), default=None,
              help="Profile to resolve (default: TOOLWIRE_ENV or development).")
def graph(format_: str, env: str | None) -> None:
    """Print the container's providers under the current settings.

    Each provider with its kind, whether it is app-wide or built per request, what it
    depends on, the branch each selector picks and which providers are overridden.
    """
    settings = load_settings(env)  # a clean error when the settings are invalid
    # Without --env the container reads the same settings itself: nothing shows overridden.
    container = create_container(settings) if env else ApplicationContainer()
    click.echo(render(describe(container), format_), nl=False)


def render(infos: Sequence[ProviderInfo], format_: str) -> str:
    """Return `infos` in `format_` (text, mermaid, dot), ending with a newline."""
    renderers: dict[str, Callable[[Sequence[ProviderInfo]], str]] = {
        "text": text, "mermaid": mermaid, "dot": dot}
    return renderers[format_](infos)


def summary(info: ProviderInfo) -> str:
    """Return `kind, lifetime` plus the selected branch and the override, if any."""
    words = f"{info.kind}, {info.lifetime}"
    if info.branches:
        words += f", selects {info.selected or '?'} of {', '.join(b.key for b in info.branches)}"
    if info.overridden_by is not None:
        words += f", OVERRIDDEN by {info.overridden_by}"
    return words


def text(infos: Sequence[ProviderInfo]) -> str:
    """One provider per line, `<-` its dependencies; a selector's branches indented below."""
    width = max(len(info.name) for info in infos)
    lines = []
    for info in infos:
        line = f"{info.name:<{width}}  {summary(info)}"
        if info.depends_on:
            line += f"  <- {', '.join(info.depends_on)}"
        lines.append(line)
        for branch in info.branches:
            mark = "*" if branch.selected else " "
            branch_line = f"{'':<{width}}  {mark} {branch.key}: {branch.kind}"
            if branch.depends_on:
                branch_line += f"  <- {', '.join(branch.depends_on)}"
            lines.append(branch_line)
    return "\n".join(lines) + "\n"


def mermaid(infos: Sequence[ProviderInfo]) -> str:
    """A Mermaid flowchart: edges from a dependency to what uses it; overrides outlined red."""
    lines = ["flowchart LR"]
    for info in infos:
        label = f"{info.name}<br/>{summary(info)}"
        if info.branches:
            lines.append(f'  {info.name}{{{{"{label}"}}}}')
        elif info.lifetime == "app-wide":
            lines.append(f'  {info.name}["{label}"]')
        else:
            lines.append(f'  {info.name}("{label}")')
    for info in infos:
        lines.extend(f"  {dependency} --> {info.name}" for dependency in info.depends_on)
    overridden = [info.name for info in infos if info.overridden_by is not None]
    if overridden:
        lines.append("  classDef overridden stroke:#d22,stroke-width:3px")
        lines.append(f"  class {','.join(overridden)} overridden")
    return "\n".join(lines) + "\n"


def dot(infos: Sequence[ProviderInfo]) -> str:
    """A Graphviz digraph: boxes app-wide, ellipses per request, diamonds selectors."""
    lines = ["digraph container {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for info in infos:
        shape = "diamond" if info.branches else (
            "box" if info.lifetime == "app-wide" else "ellipse")
        extra = ", color=red, penwidth=3" if info.overridden_by is not None else ""
        label = f"{info.name}\\n{summary(info)}"
        lines.append(f'  {info.name} [shape={shape}, label="{label}"{extra}];')
    for info in infos:
        lines.extend(f"  {dependency} -> {info.name};" for dependency in info.depends_on)
    lines.append("}")
    return "\n".join(lines) + "\n"
