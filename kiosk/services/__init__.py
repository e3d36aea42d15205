"""Services: the kiosk's long-lived work, without Kivy.

Each service (data queries, updates over HTTP and from a stick, the ID-card reader, the
printer, integrity checks, the technician PIN, speech, ...) has ``start()`` and ``stop()``,
owns its threads, and reports what happened as typed, frozen events
(:mod:`kiosk.services.events`) on one :class:`~kiosk.services.bus.EventBus`.

The App owns the services, subscribes to their events and navigates; screens show state
and call service methods, nothing else. Because nothing here imports Kivy, every flow can
be driven in plain pytest with fake or simulated devices, and from the command line.

Import direction (docs/architecture.md): services may import the core, ``cache/`` and
``devices/``; nothing below them imports a service.
"""
