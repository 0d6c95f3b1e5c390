"""Plain HTTP: health, readiness, tokens, tools, metrics and the chat page."""
