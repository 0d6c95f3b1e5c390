"""CLI commands that live in their own modules (registered in `toolwire.cli`)."""
