"""USB stick updates: notice a stick (pyudev or polling), mount it read-only, find the
bundle for this kiosk on it, and import it through the same verify-and-install path as
HTTP sync. No Kivy imports: the screens drive this through :mod:`kiosk.updates`.

Modules: :mod:`.errors`, :mod:`.mount` (read-only mounts of FAT32/exFAT/NTFS),
:mod:`.discovery` (bundles on a stick), :mod:`.watcher` (plug/unplug events),
:mod:`.importer` (plan → install → report).
"""
