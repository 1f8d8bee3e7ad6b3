"""Statistics, sanity checks, leaderboards and plots, from a run's store."""
