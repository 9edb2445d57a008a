"""Composition root and I/O adapters: CLI, settings, channels, delivery worker."""

__version__ = "0.1.0"
