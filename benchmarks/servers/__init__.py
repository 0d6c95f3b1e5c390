"""The servers the delivery benchmarks measure, each run as its own process."""
