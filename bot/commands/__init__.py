"""The command-line subcommands, one module each."""
