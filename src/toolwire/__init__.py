"""toolwire: a backend runtime for AI-agent chat, wired by one dependency-injection container."""
