"""The platform core: settings, embedded runtime, landing contract, loader and CLI."""
