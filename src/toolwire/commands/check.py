"""`toolwire check [PATH…]`: report what bypasses the container (see `toolwire.checker`)."""

from __future__ import annotations

import json
import sys

import click

from toolwire.checker import check_paths


@click.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: `path:line:col: CODE message`; json: a list.")
@click.argument("paths", nargs=-1, type=click.Path())
def check(output_format: str, paths: tuple[str, ...]) -> None:
    """Find direct construction of container-owned classes and uses of toolwire.legacy.

    \b
    TW001  a dispatcher, executor, bridge or request scope built outside toolwire/container/
    TW002  an import from toolwire.legacy (one finding per imported name)
    TW003  a call of a legacy factory (UnifiedToolDispatcher.create_for_user, ...)

    Columns are 1-based. `# toolwire: ignore[TW001]` (or `ignore[TW001,TW003]`) at the end
    of a line silences those codes on that line. PATH defaults to the current directory;
    directories are searched for *.py. Exit 0 when clean, 1 with findings, 2 when a file
    cannot be read or parsed.
    """
    result = check_paths(paths or (".",))
    if output_format == "json":
        click.echo(json.dumps([f.to_dict() for f in result.findings], indent=2))
    else:
        for finding in result.findings:
            click.echo(finding.render())
    for path, problem in result.errors:
        click.echo(f"{path}: error: {problem}", err=True)
    sys.exit(result.exit_code)
