"""Offline mirror: bundle format, verification, atomic install, read-only queries. No Kivy."""
