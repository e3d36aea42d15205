"""USB sticks as a device: notice a stick being plugged in or pulled out (:mod:`.watcher`,
pyudev or polling) and mount it read-only (:mod:`.mount`, FAT32/exFAT/NTFS), with the
errors of both (:mod:`.errors`). No Kivy imports.

What is done with a mounted stick (finding the bundle for this kiosk, installing it) is an
update rule and lives beside install and sync: :mod:`kiosk.cache.discovery`,
:mod:`kiosk.cache.stickimport`.
"""
