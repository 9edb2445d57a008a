"""Content domain: pack schema, loader, interface strings, search."""
