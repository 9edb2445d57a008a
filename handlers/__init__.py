"""Channel-agnostic conversation logic: the engine and one module per flow."""
