"""Running experiments: noise, seeded draws, sampling, the store, the runner and the CLI."""

from harness.sampler import certify_counts, count_predictions, sample_counts

__all__ = ["certify_counts", "count_predictions", "sample_counts"]
