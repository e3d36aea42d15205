"""Layered layout of a power item's procedure graph (权力清单 流程图), no Kivy imports.

Why our own code: the graphs are small (≤ ~20 steps), we draw them with Kivy canvas
instructions, and we want fixed, readable routing (back-edges such as 不通过 → 退回 on a
visible side channel) more than a general graph layout; Graphviz would add a system
dependency and its splines are hard to read at kiosk distance.

Method (a small Sugiyama-style layout):
1. depth-first search from the start step; an edge to a step still on the stack is a
   back-edge (a loop such as 退回补正);
2. each step's layer = the longest path from the start over the remaining (acyclic) edges;
3. within a layer, steps are ordered by the mean slot of their predecessors (one pass),
   steps with a back-edge last (rightmost);
4. routes are orthogonal: edges to the next layer go down with one elbow; edges that skip
   layers run down a channel on the left; back-edges run up a channel on the right.

Coordinates are px with the origin at the top-left and y growing downwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Box:
    """One step: ``kind`` is start | step | decision | end; x, y = top-left corner in px."""

    id: str
    label: str
    kind: str
    layer: int
    slot: int
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0


@dataclass
class Route:
    """One edge as an orthogonal polyline ``points`` [(x, y), ...] ending at the arrow tip.

    ``kind`` is next (to the next layer), skip (down the left channel) or back (up the right
    channel); ``label_at`` is where the label's left-centre goes (None when no label).
    """

    src: str
    dst: str
    label: str
    kind: str
    points: list = field(default_factory=list)
    label_at: tuple | None = None


@dataclass
class Layout:
    width: float
    height: float
    boxes: dict
    routes: list


def _back_edges(start: str, succ: dict[str, list[str]]) -> set[tuple[str, str]]:
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    stack = [(start, iter(succ.get(start, [])))]
    state[start] = 1
    while stack:  # iterative DFS: no recursion limit on odd data
        node, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            state[node] = 2
            stack.pop()
        elif state.get(nxt) == 1:
            back.add((node, nxt))
        elif nxt not in state:
            state[nxt] = 1
            stack.append((nxt, iter(succ.get(nxt, []))))
    return back


def layout(steps: list[dict], edges: list[dict], box_w: float = 380, box_h: float = 130,
           gap_x: float = 90, gap_y: float = 120, channel: float = 36, label_w: float = 150,
           char_w: float | None = None) -> Layout:
    """Lay out ``steps`` ([{step_id, ord, label, kind}]) and ``edges`` ([{src, dst, label}]).

    ``label_w`` is the room right of the boxes for back-edge labels; with ``char_w`` (px per
    character) it is computed from the longest back-edge label instead.

    Steps not reachable from the start (invalid data; the bundle build refuses it) are put
    in an extra last layer so nothing is hidden.

    Raises:
        ValueError: no steps.
    """
    if not steps:
        raise ValueError("a procedure needs at least one step")
    order = {s["step_id"]: (s.get("ord", i), i) for i, s in enumerate(steps)}
    ids = sorted(order, key=order.get)
    starts = [s["step_id"] for s in steps if s.get("kind") == "start"]
    start = min(starts, key=order.get) if starts else ids[0]
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for e in edges:
        if e["src"] in succ and e["dst"] in succ:
            succ[e["src"]].append(e["dst"])
    for k in succ:
        succ[k].sort(key=order.get)
    back = _back_edges(start, succ)
    fwd = {k: [d for d in v if (k, d) not in back and d != k] for k, v in succ.items()}

    # longest path layering over the acyclic forward edges (Kahn's topological order)
    indeg = {i: 0 for i in ids}
    for k, v in fwd.items():
        for d in v:
            indeg[d] += 1
    layer = {start: 0}
    ready = [i for i in ids if indeg[i] == 0]
    seen = set()
    while ready:
        ready.sort(key=order.get)
        n = ready.pop(0)
        seen.add(n)
        for d in fwd[n]:
            if n in layer:
                layer[d] = max(layer.get(d, 0), layer[n] + 1)
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    last = max(layer.values()) + 1
    for i in ids:
        if i not in layer:
            layer[i] = last

    n_layers = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for i in ids:
        rows[layer[i]].append(i)
    pred: dict[str, list[str]] = {i: [] for i in ids}
    for k, v in fwd.items():
        for d in v:
            pred[d].append(k)
    slot: dict[str, float] = {}
    loops_back = {src for src, _ in back}
    for r in rows:  # barycentre ordering, one downward pass; a step that loops back goes
        # rightmost so its back-edge reaches the right-hand channel without crossing a box
        r.sort(key=lambda i: (i in loops_back,
                              sum(slot[p] for p in pred[i] if p in slot) / max(1, sum(p in slot for p in pred[i])),
                              order[i]))
        for j, i in enumerate(r):
            slot[i] = j - (len(r) - 1) / 2

    routes = [Route(e["src"], e["dst"], e.get("label") or "", "") for e in edges
              if e["src"] in succ and e["dst"] in succ]
    n_skip = 0
    n_back = 0
    for r in routes:
        if (r.src, r.dst) in back or r.src == r.dst or layer[r.dst] <= layer[r.src]:
            r.kind = "back"
            n_back += 1
        elif layer[r.dst] == layer[r.src] + 1:
            r.kind = "next"
        else:
            r.kind = "skip"
            n_skip += 1

    if char_w:
        longest = max((len(r.label) for r in routes if r.kind == "back"), default=0)
        label_w = longest * char_w + 20 if longest else 20
    widest = max(len(r) for r in rows)
    left = channel * (n_skip + 1)
    inner_w = widest * box_w + (widest - 1) * gap_x
    width = left + inner_w + label_w + channel * (n_back + 1)
    height = n_layers * box_h + (n_layers - 1) * gap_y + 2 * 20
    cx0 = left + inner_w / 2
    boxes: dict[str, Box] = {}
    s_by_id = {s["step_id"]: s for s in steps}
    for i in ids:
        s = s_by_id[i]
        b = Box(i, s.get("label", ""), s.get("kind", "step"), layer[i], int(round(slot[i] * 2)),
                w=box_w, h=box_h)
        b.x = cx0 + slot[i] * (box_w + gap_x) - box_w / 2
        b.y = 20 + layer[i] * (box_h + gap_y)
        boxes[i] = b

    right_edge = left + inner_w
    k_skip = k_back = 0
    # when several edges enter one box from the top, spread their end points
    ins: dict[str, list[Route]] = {}
    for r in routes:
        if r.kind == "next":
            ins.setdefault(r.dst, []).append(r)
    for r in routes:
        s, d = boxes[r.src], boxes[r.dst]
        if r.kind == "next":
            sx, sy = s.x + s.w / 2, s.y + s.h
            group = sorted(ins[r.dst], key=lambda q: boxes[q.src].x)
            k = group.index(r)
            dx = d.x + d.w / 2 + (k - (len(group) - 1) / 2) * 40
            dy = d.y
            my = sy + gap_y / 2 if sx != dx else sy
            r.points = [(sx, sy), (sx, my), (dx, my), (dx, dy)] if sx != dx else [(sx, sy), (dx, dy)]
            if r.label:
                r.label_at = (dx + 12, (my + dy) / 2) if sx != dx else (sx + 12, (sy + dy) / 2)
        elif r.kind == "skip":
            k_skip += 1
            cx = left - channel * k_skip
            sy = s.y + s.h / 2 + 18
            dy = d.y + d.h / 2 - 18
            r.points = [(s.x, sy), (cx, sy), (cx, dy), (d.x, dy)]
            if r.label:
                r.label_at = (cx + 8, sy + 28)
        else:
            k_back += 1
            cx = right_edge + label_w + channel * k_back
            sy = s.y + s.h / 2 + 18
            dy = d.y + d.h / 2 - 18
            r.points = [(s.x + s.w, sy), (cx, sy), (cx, dy), (d.x + d.w, dy)]
            if r.label:
                r.label_at = (s.x + s.w + 10, sy + 28)
    return Layout(width=width, height=height, boxes=boxes, routes=routes)
