"""CLI sub-commands, one module per concern, registered by :mod:`kiosk.cli`."""
