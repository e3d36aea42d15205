"""Screens that show one of several views at a time (PIN pad → menu, PIN → progress, …)."""
from __future__ import annotations


class SwitchedViews:
    """Mixin for a screen with a ``state`` property and an ``ids.holder`` box.

    Views not in use are taken out of the widget tree, because a hidden but present widget
    still catches touches meant for what is shown. Call :meth:`init_views` from
    ``on_kv_post`` with ``{state: widget}``; changing ``state`` then swaps the view.
    """

    def init_views(self, views: dict) -> None:
        self._views = {k: v.__self__ for k, v in views.items()}  # strong refs: kv ids are weak
        for v in self._views.values():
            if v.parent is not None:
                v.parent.remove_widget(v)
        self._apply_state()

    def on_state(self, *_):
        if hasattr(self, "_views"):
            self._apply_state()

    def _apply_state(self):
        holder = self.ids.holder
        old = getattr(self, "_min_bound", None)
        if old is not None:
            old.funbind("minimum_height", self._view_min)
            self._min_bound = None
        holder.clear_widgets()
        view = self._views.get(self.state)
        if view is not None:
            holder.add_widget(view)
            if hasattr(view, "minimum_height"):  # the holder is at least as tall as the view needs
                view.fbind("minimum_height", self._view_min)
                self._min_bound = view
        self._view_min()

    def _view_min(self, *_):
        view = getattr(self, "_min_bound", None)
        self.ids.holder.size_hint_min_y = view.minimum_height if view is not None else None
