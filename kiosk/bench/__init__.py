"""Benchmarks (``kiosk bench``): build demo data at village or city scale, bundle, install,
measure. Never run by ``make test`` at city scale; figures go to docs/performance.md."""
