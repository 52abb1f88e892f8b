"""Benchmarks that print figures (docs/performance.md): api_calls, throughput, latency, pages, drill."""
