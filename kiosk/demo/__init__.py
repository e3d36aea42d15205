"""Parts of the demo-data generator (``kiosk demo-data``); the public API is :mod:`kiosk.demo_data`.

Modules: ``refdata`` (shipped reference tables), ``people`` (invented villagers and officials),
``powers`` (the sample power list with procedure graphs), ``records`` (books, projects, assets,
services, payments).
"""
