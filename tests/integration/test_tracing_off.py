"""Without `OTEL_*` variables a served run loads none of toolwire's OpenTelemetry tracing.

(redis-py imports parts of the OpenTelemetry API and metrics SDK by itself when they are
installed; the tracing SDK, the exporters and toolwire's tracing module stay unloaded.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio, sys
    TRACING = ("toolwire.adapters.tracing.otel", "opentelemetry.sdk.trace",
               "opentelemetry.exporter", "opentelemetry.propagate")
    from toolwire.config import Settings
    from toolwire.container import close_resources, create_app, create_container
    from toolwire.services.context import UserExecutionContext

    async def main() -> None:
        container = create_container(Settings(env="test"))
        create_app(container)
        async with container.request_scope(UserExecutionContext.for_user("ann")) as scope:
            final = await scope.run("what is 6*7?")
        assert final.status == "ok", final
        await close_resources(container)
        print(type(container.tracing()).__name__)
        print(sorted(name for name in sys.modules if name.startswith(TRACING)))

    asyncio.run(main())
""")


def test_a_run_without_otel_variables_loads_no_tracing_sdk_or_exporter() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TOOLWIRE_"))}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["Tracing", "[]"]
