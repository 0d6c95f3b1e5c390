"""Tools: the `@tool` decorator, the registry and the built-in tools."""
