"""Contract suite, Hypothesis strategies and reference server for the orders batch API."""
