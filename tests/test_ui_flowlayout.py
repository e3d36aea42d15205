"""Layered layout of power-list procedures (kiosk.screens.flowlayout; no Kivy)."""
from __future__ import annotations

import pytest

from kiosk.screens.flowlayout import layout


def _steps(*spec):
    return [{"step_id": i, "ord": n, "label": lab, "kind": k} for n, (i, lab, k) in enumerate(spec)]


def _edges(*spec):
    return [{"src": a, "dst": b, "label": lab} for a, b, lab in spec]


BRANCHING = (
    _steps(("s", "提交申请", "start"), ("r", "村委会审核", "decision"), ("fix", "退回补正", "step"),
           ("pub", "公示", "step"), ("e", "办结", "end")),
    _edges(("s", "r", ""), ("r", "pub", "通过"), ("r", "fix", "不通过"), ("fix", "s", "退回"), ("pub", "e", "")),
)


def test_layers_follow_longest_path_and_loops_are_back_edges():
    lay = layout(*BRANCHING)
    assert {i: b.layer for i, b in lay.boxes.items()} == {"s": 0, "r": 1, "fix": 2, "pub": 2, "e": 3}
    kinds = {(r.src, r.dst): r.kind for r in lay.routes}
    assert kinds == {("s", "r"): "next", ("r", "pub"): "next", ("r", "fix"): "next",
                     ("fix", "s"): "back", ("pub", "e"): "next"}


def test_back_edge_runs_up_the_right_channel_from_the_rightmost_box():
    lay = layout(*BRANCHING, box_w=300, box_h=100)
    fix, pub, s = lay.boxes["fix"], lay.boxes["pub"], lay.boxes["s"]
    assert fix.x > pub.x  # the step that loops back sits on the right
    back = next(r for r in lay.routes if r.kind == "back")
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = back.points
    right_of_boxes = max(b.x + b.w for b in lay.boxes.values())
    assert x0 == fix.x + fix.w and x1 == x2 > right_of_boxes  # out to the channel
    assert y2 < y1 and x3 == s.x + s.w  # up, then into the start box from the right
    assert back.label == "退回" and back.label_at[0] > fix.x + fix.w
    assert x2 <= lay.width


def test_branch_labels_sit_by_their_edges_and_boxes_do_not_overlap():
    lay = layout(*BRANCHING)
    labelled = {r.label: r for r in lay.routes if r.label}
    assert set(labelled) == {"通过", "不通过", "退回"}
    for lab in ("通过", "不通过"):
        r = labelled[lab]
        assert r.label_at is not None and r.points[-1] == (r.points[-1][0], lay.boxes[r.dst].y)
    boxes = list(lay.boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y


def test_skip_edge_uses_the_left_channel_and_unreachable_steps_still_shown():
    steps = _steps(("a", "A", "start"), ("b", "B", "step"), ("c", "C", "end"), ("z", "孤立", "step"))
    lay = layout(steps, _edges(("a", "b", ""), ("b", "c", ""), ("a", "c", "简易程序")))
    skip = next(r for r in lay.routes if r.kind == "skip")
    assert (skip.src, skip.dst) == ("a", "c")
    assert skip.points[1][0] < min(b.x for b in lay.boxes.values())
    assert lay.boxes["z"].layer == 3  # not reachable from the start: an extra last layer


def test_no_steps_is_an_error():
    with pytest.raises(ValueError):
        layout([], [])
