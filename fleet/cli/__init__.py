"""The `fleet` command line: thin commands over the headless API, one module per command."""
