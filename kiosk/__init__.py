"""村务公开查询终端 (village affairs query kiosk).

Layers, top may import bottom: ``screens`` → ``app`` → ``devices`` / ``cache`` → core.
The core, ``cache`` and ``devices`` never import Kivy.
"""

__version__ = "0.1.0"
