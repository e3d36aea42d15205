"""Kivy screens: one module + one .kv per section (list and detail), shared widgets and theme."""
