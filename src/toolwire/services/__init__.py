"""Pure domain logic: no I/O, no imports of adapters or container."""
