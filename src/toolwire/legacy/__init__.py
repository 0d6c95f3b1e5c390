"""Deprecated factory entry points: thin shims that resolve through the container."""
