"""Device drivers (printer, ID-card reader, USB stick watcher): transports and simulators.

No Kivy imports here: the app marshals device events to its main thread itself.
"""
