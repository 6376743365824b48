"""`make bench`: Pigeon's benchmarks, each against a named baseline in the same run."""
