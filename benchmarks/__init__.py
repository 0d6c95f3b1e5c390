"""toolwire's benchmarks beside its peers, in one run: `python -m benchmarks`."""
