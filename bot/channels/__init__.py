"""Channel adapters: each turns platform input into Inbound and draws Reply values."""
