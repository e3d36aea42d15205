"""What a person would call broken on a screen, found from the widget tree: text cut or
clipped, widgets overlapping, touch targets under 20 mm, text under 8 mm, contrast under 7:1.

:func:`problems` walks what is shown (opacity and size not 0) and returns one line per
fault. Coordinates are window coordinates (``to_window``), so widgets inside relative
layouts and scrolled views compare correctly.
"""
from __future__ import annotations

TOL = 1.0  # px: rounding of layouts


def rect(w) -> tuple[float, float, float, float]:
    x0, y0 = w.to_window(w.x, w.y)
    x1, y1 = w.to_window(w.right, w.top)
    return x0, y0, x1, y1


def _area(a, b) -> float:
    dx = min(a[2], b[2]) - max(a[0], b[0])
    dy = min(a[3], b[3]) - max(a[1], b[1])
    return dx * dy if dx > TOL and dy > TOL else 0.0


def _shown(w) -> bool:
    return w.opacity > 0 and w.width > 0 and w.height > 0


def _name(w) -> str:
    text = getattr(w, "text", "")
    return f"{type(w).__name__}({plain(text)[:24]!r})" if isinstance(text, str) and text else type(w).__name__


def plain(markup: str) -> str:
    import re

    s = re.sub(r"\[/?[a-z_]+(=[^\]]*)?\]", "", markup)
    return s.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&").replace("\u00a0", " ")


def needed_size(lbl) -> tuple[float, float]:
    """The size a label's whole text needs at its wrap width (its box width when it has a
    text_size, else unbounded), laid out the way the label lays it out (禁则 wrapping).

    The height is the lines' glyph boxes (ascent to descent) with the line spacing between
    them, not after the last one: that spacing is room, not text."""
    from kiosk.screens.widgets import CoverageLabel, KLabel

    core = lbl._label
    opts = dict(core.options)
    for k in ("text", "text_size"):
        opts.pop(k, None)
    tw = lbl.text_size[0]
    c = CoverageLabel(text=lbl.text, text_size=(tw, None), **opts)
    c.options["shorten"] = False
    c.resolve_font_name()
    src = c.text
    c.text = c.shown_text() if isinstance(lbl, KLabel) else src
    w, h = c.render()
    if tw:  # with a wrap width Kivy adds the spacing after the last line too
        h -= (c.options["line_height"] - 1) * c.get_extents("目")[1]
    return w, h


def _clips(w) -> bool:
    from kivy.uix.scrollview import ScrollView

    return isinstance(w, ScrollView)


def problems(root, theme) -> list[str]:
    """Faults on the shown widgets under ``root`` (a screen, or the window's children)."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.layout import Layout
    from kivy.uix.scrollview import ScrollView

    from kiosk.screens.theme import MIN_CONTRAST, contrast_ratio

    out: list[str] = []

    def visit(w, clip):
        if not _shown(w):
            return
        r = rect(w)
        if isinstance(w, ButtonBehavior) and not w.disabled:
            if w.width + TOL < theme.min_target or w.height + TOL < theme.min_target:
                out.append(f"small target {_name(w)} {w.width:.0f}×{w.height:.0f} < {theme.min_target}")
        if isinstance(w, Label) and w.text.strip():
            out.extend(_label_problems(w, r, clip, theme))
            ratio = contrast_ratio(w.color, effective_bg(w))
            if ratio < MIN_CONTRAST:
                out.append(f"contrast {ratio:.1f} for {_name(w)}")
        kids = [c for c in w.children if _shown(c)]
        if isinstance(w, (Layout, ScrollView)) or type(w).__name__ == "FlowChart":
            rects = [(c, rect(c)) for c in kids]
            for i, (a, ra) in enumerate(rects):
                for b, rb in rects[i + 1:]:
                    if _area(ra, rb) > 0:
                        out.append(f"overlap {_name(a)} {_fmt(ra)} / {_name(b)} {_fmt(rb)} in {_name(w)}")
                # a child sticking out of a layout is cut by whatever is drawn next to it;
                # a scrolled view's content is bigger than the view on purpose
                if not isinstance(w, ScrollView) and _outside(ra, r):
                    out.append(f"outside its parent: {_name(a)} {_fmt(ra)} in {_name(w)} {_fmt(r)}")
        nclip = r if isinstance(w, ScrollView) else clip
        for c in kids:
            visit(c, nclip)

    visit(root, None)
    return out


def _outside(inner, outer) -> bool:
    return (inner[0] < outer[0] - TOL or inner[1] < outer[1] - TOL
            or inner[2] > outer[2] + TOL or inner[3] > outer[3] + TOL)


def _fmt(r) -> str:
    return f"[{r[0]:.0f},{r[1]:.0f}–{r[2]:.0f},{r[3]:.0f}]"


def _label_problems(w, r, clip, theme) -> list[str]:
    out = []
    name = _name(w)
    if w.font_size + TOL < theme.min_font:
        out.append(f"small text {w.font_size:.0f} < {theme.min_font}: {name}")
    if w.line_height < 1.3:
        out.append(f"line height {w.line_height}: {name}")
    tw, th = w.texture_size
    if tw > w.width + TOL or th > w.height + TOL:
        out.append(f"text bigger than its box: {name} texture {tw}×{th} box {w.width:.0f}×{w.height:.0f}")
    nw, nh = needed_size(w)
    box_w = w.text_size[0] or w.width
    box_h = w.text_size[1] if w.text_size[1] is not None else w.height
    if getattr(w, "shorten", False) and nw > box_w + TOL:
        out.append(f"text shortened: {name} needs {nw:.0f} px, has {box_w:.0f}")
    elif nh > box_h + TOL or nw > w.width + TOL:
        out.append(f"text cut: {name} needs {nw:.0f}×{nh:.0f}, has {w.width:.0f}×{box_h:.0f}")
    if hasattr(w, "texture_pos") and w.texture is not None:
        x, y = w.to_window(*w.texture_pos())
        # texture_pos is in the label's parent's coordinates; compare in the window's
        tr = (x, y, x + tw, y + th)
        if _outside(tr, r):
            out.append(f"text drawn outside its label: {name} {_fmt(tr)} label {_fmt(r)}")
    return out


def effective_bg(w):
    """The colour the text of ``w`` is drawn on: its own background or the nearest painted
    ancestor's (``contrast_bg`` where a canvas shape paints it), else the page colour."""
    from kiosk.screens.theme import COLORS

    while w is not None and w is not w.parent:
        cb = getattr(w, "contrast_bg", None)
        if cb:
            return cb
        bg = getattr(w, "bg_color", None)
        if bg is not None and len(bg) == 4 and bg[3] > 0:
            return bg
        w = w.parent
    return COLORS["bg"]
