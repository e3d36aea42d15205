"""The screen manager: screens built on first use, switched within one frame."""
from __future__ import annotations

import importlib

from kivy.properties import AliasProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager


class InstantTransition(NoTransition):
    """NoTransition that completes within the tap's own frame. Kivy's NoTransition runs a
    zero-length Animation, so the old screen stays in the tree, drawn under the new one,
    until the next frame removes it: every tap cost two frames, the first one double."""

    def start(self, manager):
        super().start(manager)
        self._anim.cancel(self)  # cancel() does not fire on_complete; we do, now
        self._on_complete()  # removes the old screen, then on_enter / on_leave


class LazyScreenManager(ScreenManager):
    """ScreenManager that builds a screen (imports its module, which loads its .kv) the
    first time it is asked for, by :meth:`get_screen` or by setting ``current``.

    Building all screens at start cost about a second and rendered every label's texture
    before the first frame (docs/performance.md). ``screen_names`` and :meth:`has_screen`
    name every known screen, built or not; ``screens`` holds the built ones.

    Args:
        factories: ``[(name, module, class name), ...]``.
    """

    def __init__(self, factories, **kw):
        self._factories = {name: (module, cls) for name, module, cls in factories}
        super().__init__(**kw)

    def _get_names(self):
        built = [s.name for s in self.screens]
        return list(self._factories) + [n for n in built if n not in self._factories]

    screen_names = AliasProperty(_get_names, bind=("screens",))

    def built(self, name: str) -> bool:
        """Whether screen ``name`` exists already."""
        return any(s.name == name for s in self.screens)

    def get_screen(self, name):
        if name in self._factories and not self.built(name):
            module, cls = self._factories[name]
            screen = getattr(importlib.import_module(module), cls)(name=name)
            # a screen not on display is not laid out by the manager: built at Kivy's default
            # 100×100, work ahead of use laid its text out at the wrong width (and did it
            # all again on the first visit)
            screen.size = self.size
            self.add_widget(screen)
        return super().get_screen(name)

    def on_size(self, *_):
        for screen in self.screens:
            if screen.parent is None:
                screen.size = self.size

    def has_screen(self, name):
        return name in self._factories or super().has_screen(name)
