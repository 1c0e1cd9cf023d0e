"""Geometry for ``scripts/bpmn_layout.py``: ranks, rows, boxes and edge routes.

It works on a small graph model with no XML in it, so the layout rules can be
read (and tested) on their own. :func:`layout` places a container's content
relative to the container's top-left corner; :func:`layout_pools` stacks the
pools and moves everything to its final place.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field

Point = tuple[float, float]

GAP_X = 70          # between columns: room for a flow label and a bend
ROW_GAP = 50        # under each row: boundary events hang 18 px into it, a loop runs in it
CHANNEL = 12        # between two loops running under the same row
LANE_MIN_H = 150
LABEL_BAND = 30     # the name band bpmn-js draws on the left of a pool or lane
POOL_GAP = 50
#: left, top, right, bottom padding of a process and of an expanded subprocess
TOP_PAD = (50, 30, 50, 0)
SUB_PAD = (30, 40, 30, 0)


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share some area (touching edges do not count)."""
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)


@dataclass
class Node:
    """A flow node, or an artifact (then ``host`` is the node it annotates)."""

    id: str
    tag: str
    w: float
    h: float
    name: str = ""
    band: int = 0
    #: boundary events: the node they are attached to
    host: str | None = None
    #: expanded subprocesses: their own content
    inner: Graph | None = None
    event_sub: bool = False
    box: Box | None = None
    label: Box | None = None


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    points: list[Point] = field(default_factory=list)
    label: Box | None = None


@dataclass
class Graph:
    """The content of a process or subprocess, in document order."""

    nodes: dict[str, Node]
    flows: list[Flow]
    bands: int = 1
    artifacts: list[Node] = field(default_factory=list)
    #: associations between an artifact and a node, drawn as straight lines
    links: list[Flow] = field(default_factory=list)
    width: float = 0
    height: float = 0
    band_tops: list[float] = field(default_factory=list)
    band_heights: list[float] = field(default_factory=list)


@dataclass
class Lane:
    id: str
    depth: int
    first: int
    last: int
    box: Box | None = None


@dataclass
class Pool:
    """A participant (``id``) or a bare process (``id`` None) and what it draws."""

    id: str | None
    graph: Graph | None
    lanes: list[Lane] = field(default_factory=list)
    box: Box | None = None


def text_size(text: str, max_w: float = 90) -> tuple[float, float]:
    """Rough size of a label as bpmn-js wraps it (CJK glyphs are twice as wide)."""
    total = sum(12 if unicodedata.east_asian_width(c) in "WF" else 7 for c in text)
    lines = max(1, math.ceil(total / max_w))
    return min(total, max_w) + 4, 14 * lines


def _dfs(out: dict[str, list[tuple[str, str, bool]]], roots: list[str]
         ) -> tuple[list[str], list[str], dict[str, tuple[str, bool]], set[str]]:
    """Preorder, postorder, tree parents and back edges (edges to a node on the stack)."""
    state: dict[str, int] = {}
    pre: list[str] = []
    post: list[str] = []
    parent: dict[str, tuple[str, bool]] = {}
    back: set[str] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        pre.append(root)
        stack = [(root, iter(out[root]))]
        while stack:  # iterative, so a long procedure cannot hit the recursion limit
            node, todo = stack[-1]
            for flow_id, target, via_boundary in todo:
                seen = state.get(target)
                if seen is None:
                    state[target] = 1
                    pre.append(target)
                    parent[target] = (node, via_boundary)
                    stack.append((target, iter(out[target])))
                    break
                if seen == 1:
                    back.add(flow_id)
            else:
                state[node] = 2
                post.append(node)
                stack.pop()
    return pre, post, parent, back


def _ends(g: Graph, flow: Flow) -> tuple[str, str, bool]:
    """A flow's ends for ranking: a boundary event stands for its host."""
    source = g.nodes.get(flow.source)
    if source is not None and source.host in g.nodes:
        return source.host, flow.target, True
    return flow.source, flow.target, False


@dataclass
class _Grid:
    """Where the main nodes of one graph go: column (rank), band (lane) and row."""

    rank: dict[str, int]
    band: dict[str, int]
    row: dict[str, int]
    #: flows drawn under a row (loops, and lines that would cross nodes): band, row, index
    under: dict[str, tuple[int, int, int]]
    left: list[float] = field(default_factory=list)
    colw: list[float] = field(default_factory=list)
    row_top: dict[tuple[int, int], float] = field(default_factory=dict)
    rowh: dict[tuple[int, int], float] = field(default_factory=dict)

    def gap_after(self, node: str, offset: float = 0) -> float:
        return self.left[self.rank[node]] + self.colw[self.rank[node]] + GAP_X / 2 + offset

    def gap_before(self, node: str, offset: float = 0) -> float:
        return self.left[self.rank[node]] - GAP_X / 2 - offset

    def channel(self, flow_id: str) -> float:
        b, r, i = self.under[flow_id]
        return self.row_top[(b, r)] + self.rowh[(b, r)] + 26 + CHANNEL * i


def layout(g: Graph, pad: tuple[float, float, float, float], min_band_h: float = 0) -> None:
    """Place the content of ``g`` (subprocesses recursively) relative to its top-left."""
    for node in g.nodes.values():
        if node.inner is not None:
            layout(node.inner, SUB_PAD)
            node.w, node.h = max(node.inner.width, 100), max(node.inner.height, 80)
    grid = _grid(g)
    ncols = max(grid.rank.values(), default=-1) + 1
    grid.colw = [0.0] * ncols
    for n, r in grid.rank.items():
        grid.colw[r] = max(grid.colw[r], g.nodes[n].w)
    grid.left = [pad[0]]
    for r in range(1, ncols):
        grid.left.append(grid.left[-1] + grid.colw[r - 1] + GAP_X)
    right_edge = grid.left[-1] + grid.colw[-1] if ncols else pad[0]
    right_edge = max(right_edge, _bands(g, grid, pad, min_band_h))
    for n, r in grid.rank.items():
        node, key = g.nodes[n], (grid.band[n], grid.row[n])
        node.box = Box(grid.left[r] + (grid.colw[r] - node.w) / 2,
                       grid.row_top[key] + (grid.rowh[key] - node.h) / 2, node.w, node.h)
    _place_boundaries(g)
    g.width = max([right_edge] + _place_artifacts(g, grid.band)) + pad[2]
    _route(g, grid)
    ends = {p for flow in g.flows for p in flow.points[:1] + flow.points[-1:]}
    obstacles = [n.box for n in g.nodes.values() if n.box is not None]
    for flow in g.flows:
        if flow.name and flow.points:
            flow.label = _flow_label(flow.points, flow.name, obstacles)
    for node in g.nodes.values():
        if node.name and node.box and (node.tag.endswith(("Event", "Gateway"))):
            node.label = _node_label(node.box, node.name, ends, node.host in g.nodes)
        if node.inner is not None and node.box is not None:
            shift(node.inner, node.box.x, node.box.y)


def _grid(g: Graph) -> _Grid:
    """Rank by longest path from the start events ignoring loops; rows by first visit."""
    main = [n.id for n in g.nodes.values() if n.host not in g.nodes and not n.event_sub]
    in_main = set(main)
    band = {n.id: min(max(n.band, 0), g.bands - 1) for n in g.nodes.values()}
    out: dict[str, list[tuple[str, str, bool]]] = {n: [] for n in main}
    has_incoming: set[str] = set()
    for flow in g.flows:
        source, target, via = _ends(g, flow)
        if source in in_main and target in in_main:
            out[source].append((flow.id, target, via))
            if source != target:
                has_incoming.add(target)
    for edges in out.values():
        edges.sort(key=lambda e: e[2])  # a node's own flows before its boundary events'
    starts = [n for n in main if g.nodes[n].tag == "startEvent"]
    pre, post, parent, back = _dfs(out, starts + [n for n in main if n not in has_incoming]
                                   + main)

    # reverse postorder is a topological order of the edges that are not back edges
    rank = dict.fromkeys(main, 0)
    for node in reversed(post):
        for flow_id, target, _ in out[node]:
            if flow_id not in back:
                rank[target] = max(rank[target], rank[node] + 1)

    # a node stays on its tree parent's row (a boundary event's target one row lower),
    # so the first branch of each fork runs straight
    row: dict[str, int] = {}
    taken: dict[tuple[int, int], set[int]] = {}
    for node in pre:
        want = 0
        if node in parent and band[parent[node][0]] == band[node]:
            want = row[parent[node][0]] + parent[node][1]
        cell = taken.setdefault((band[node], rank[node]), set())
        while want in cell:
            want += 1
        cell.add(want)
        row[node] = want

    # the horizontal of a flow runs on the lower of its two rows (see _route_forward)
    occupied = {(band[n], row[n], rank[n]) for n in main}
    under: dict[str, tuple[int, int, int]] = {}
    count: dict[tuple[int, int], int] = {}
    for flow in g.flows:
        source, target, via = _ends(g, flow)
        if source not in in_main or target not in in_main:
            continue
        here, there = (band[source], row[source]), (band[target], row[target])
        low, line = max(here, there), there if via or there > here else here
        if flow.id in back or any((*line, r) in occupied
                                  for r in range(rank[source] + 1, rank[target])):
            under[flow.id] = (*low, count.get(low, 0))
            count[low] = count.get(low, 0) + 1
    return _Grid(rank, band, row, under)


def _bands(g: Graph, grid: _Grid, pad: tuple[float, float, float, float],
           min_band_h: float) -> float:
    """Stack the bands; each holds an artifact strip, its rows, its event subprocesses.

    :return: the right edge of the event subprocesses.
    """
    for n in grid.rank:
        key = (grid.band[n], grid.row[n])
        grid.rowh[key] = max(grid.rowh.get(key, 0), g.nodes[n].h)
    channels: dict[tuple[int, int], int] = {}
    for b, r, _ in grid.under.values():
        channels[(b, r)] = channels.get((b, r), 0) + 1
    right_edge = 0.0
    y = 0.0
    g.band_tops, g.band_heights = [], []
    for b in range(g.bands):
        top = y
        y += pad[1]
        strip = [a.h for a in g.artifacts if grid.band.get(a.host or "") == b]
        for art in g.artifacts:
            if grid.band.get(art.host or "") == b:
                art.box = Box(0, y, art.w, art.h)  # x once the host is placed
        y += max(strip) + 30 if strip else 0
        for r in range(max((grid.row[n] + 1 for n in grid.rank if grid.band[n] == b),
                           default=0)):
            grid.row_top[(b, r)] = y
            if (b, r) in grid.rowh:
                y += grid.rowh[(b, r)] + ROW_GAP + CHANNEL * max(channels.get((b, r), 0) - 1, 0)
        subs = [n for n in g.nodes.values() if n.event_sub and grid.band[n.id] == b]
        x = pad[0]
        for sub in subs:
            sub.box = Box(x, y, sub.w, sub.h)
            x += sub.w + 40
            right_edge = max(right_edge, sub.box.right)
        y += max(s.h for s in subs) + ROW_GAP if subs else 0
        height = max(y + pad[3] - top, min_band_h)
        g.band_tops.append(top)
        g.band_heights.append(height)
        y = top + height
    g.height = y
    return right_edge


def _route(g: Graph, grid: _Grid) -> None:
    """Waypoints for every flow; loops first, as a gateway whose bottom a loop uses
    takes its forks and joins on the side."""
    loop_ends: set[str] = set()
    for flow in sorted(g.flows, key=lambda f: f.id not in grid.under):
        source, target, via = _ends(g, flow)
        src, dst = g.nodes.get(flow.source), g.nodes.get(flow.target)
        if src is None or dst is None or src.box is None or dst.box is None:
            continue
        if flow.id in grid.under:
            flow.points = _route_under(g, src, dst, grid.channel(flow.id),
                                       grid.gap_after(source, 12), grid.gap_before(target, 12))
            loop_ends.update(n.id for n, p in ((src, flow.points[0]), (dst, flow.points[-1]))
                             if n.box is not None and p[1] == n.box.bottom)
        elif via:
            flow.points = _route_boundary(src.box, dst.box, grid.gap_before(target))
        elif source in grid.rank and target in grid.rank:
            flow.points = _route_forward(src, dst, grid.gap_after(source),
                                         grid.gap_before(target), loop_ends)
        else:  # an event subprocess is never a flow's end in valid BPMN: draw something
            flow.points = [(src.box.right, src.box.cy), (dst.box.x, dst.box.cy)]
    known = {**g.nodes, **{a.id: a for a in g.artifacts}}
    for link in g.links:  # associations: straight from the artifact down to its node
        a, b = known.get(link.source), known.get(link.target)
        if a is not None and b is not None and a.box is not None and b.box is not None:
            upper, lower = (a.box, b.box) if a.box.y < b.box.y else (b.box, a.box)
            points = [(upper.cx, upper.bottom), (lower.cx, lower.y)]
            link.points = points if upper is a.box else points[::-1]


def _node_label(box: Box, name: str, ends: set[Point], boundary: bool) -> Box:
    """Below the shape, as bpmn-js puts it, unless a flow leaves or enters there."""
    w, h = text_size(name)
    if boundary:  # the flow leaves from the bottom, the host sits above: go lower right
        return Box(box.right + 2, box.bottom - 4, w, h)
    if (box.cx, box.bottom) not in ends:
        return Box(box.cx - w / 2, box.bottom + 5, w, h)
    if (box.cx, box.y) not in ends:
        return Box(box.cx - w / 2, box.y - h - 5, w, h)
    return Box(box.x - w - 2, box.y - h, w, h)  # top left, above the incoming flow


def _boundaries(g: Graph, host: str) -> list[Node]:
    return [n for n in g.nodes.values() if n.host == host]


def _place_boundaries(g: Graph) -> None:
    """Boundary events sit on their host's bottom edge, spread along it."""
    for host in g.nodes.values():
        events = _boundaries(g, host.id)
        if not events or host.box is None:
            continue
        step = max(host.w / len(events), 40)
        for i, event in enumerate(events):
            cx = host.box.cx + (i - (len(events) - 1) / 2) * step
            event.box = Box(cx - event.w / 2, host.box.bottom - event.h / 2, event.w, event.h)


def _place_artifacts(g: Graph, band: dict[str, int]) -> list[float]:
    """Artifacts sit in their band's top strip, above their node where there is room."""
    rights: list[float] = []
    for b in sorted({band.get(a.host or "", 0) for a in g.artifacts}):
        mine = [(g.nodes[a.host].box, a) for a in g.artifacts  # type: ignore[index]
                if band.get(a.host or "") == b]
        x = -math.inf
        for host, art in sorted(mine, key=lambda m: m[0].cx if m[0] else 0):
            if art.box is not None and host is not None:
                art.box = Box(max(host.cx - art.w / 2, x), art.box.y, art.w, art.h)
                x = art.box.right + 10
                rights.append(art.box.right)
    return rights


def _bottom_port(g: Graph, node: Node) -> float:
    """Where a loop leaves or enters a node's bottom, clear of its boundary events."""
    box = node.box
    assert box is not None
    taken = [e.box.cx for e in _boundaries(g, node.id) if e.box is not None]
    for x in (box.cx, box.x + 12, box.right - 12):
        if all(abs(x - t) > 24 for t in taken):
            return x
    return box.cx


def _clear(g: Graph, x: float, y1: float, y2: float, skip: tuple[Node, ...]) -> bool:
    """True when the vertical segment x, y1..y2 crosses no node but those in ``skip``."""
    line = Box(x - 1, min(y1, y2), 2, abs(y2 - y1))
    return not any(n.box is not None and n not in skip and n.box.overlaps(line)
                   for n in g.nodes.values())


def _route_under(g: Graph, src: Node, dst: Node, channel: float, exit_x: float,
                 entry_x: float) -> list[Point]:
    """Down from the source, along a channel under the row, up into the target.

    Where a node stands below the source (or the target) in its column, the flow
    leaves from the right side (enters from the left side) through the column gap.
    """
    s, t = src.box, dst.box
    assert s is not None and t is not None
    sx, tx = _bottom_port(g, src), _bottom_port(g, dst)
    if src is dst:
        tx = s.x + 12 if abs(sx - s.x - 12) > 1 else s.right - 12
    if _clear(g, sx, s.bottom, channel, (src,)):
        points = [(sx, s.bottom), (sx, channel)]
    else:
        points = [(s.right, s.cy), (exit_x, s.cy), (exit_x, channel)]
    if _clear(g, tx, channel, t.bottom, (dst,)):
        return points + [(tx, channel), (tx, t.bottom)]
    return points + [(entry_x, channel), (entry_x, t.cy), (t.x, t.cy)]


def _route_boundary(e: Box, t: Box, gap_x: float) -> list[Point]:
    """Down from the boundary event, then right into the target."""
    if t.cy > e.bottom + 10 and t.x > e.cx:
        return [(e.cx, e.bottom), (e.cx, t.cy), (t.x, t.cy)]
    low = e.bottom + 20
    return [(e.cx, e.bottom), (e.cx, low), (gap_x, low), (gap_x, t.cy), (t.x, t.cy)]


def _route_forward(src: Node, dst: Node, gap_after: float, gap_before: float,
                   loop_ends: set[str]) -> list[Point]:
    """Right-middle to left-middle; the long horizontal runs on the lower of the two rows."""
    s, t = src.box, dst.box
    assert s is not None and t is not None
    if abs(s.cy - t.cy) < 1:
        return [(s.right, s.cy), (t.x, t.cy)]
    down = t.cy > s.cy
    # forks leave a gateway from its bottom or top corner, joins enter one the same way
    if src.tag.endswith("Gateway") and not (down and src.id in loop_ends):
        return [(s.cx, s.bottom if down else s.y), (s.cx, t.cy), (t.x, t.cy)]
    if dst.tag.endswith("Gateway") and (down or dst.id not in loop_ends):
        return [(s.right, s.cy), (t.cx, s.cy), (t.cx, t.y if down else t.bottom)]
    x = gap_after if down else gap_before
    return [(s.right, s.cy), (x, s.cy), (x, t.cy), (t.x, t.cy)]


def _flow_label(points: list[Point], name: str, obstacles: list[Box]) -> Box:
    """Beside the longest segment: above (or below) a horizontal one, right of a vertical one."""
    w, h = text_size(name)
    segments = list(zip(points, points[1:]))
    (x1, y1), (x2, y2) = max(segments, key=lambda s: abs(s[1][0] - s[0][0])
                             + abs(s[1][1] - s[0][1]))
    if abs(y1 - y2) < 1:
        x = (x1 + x2) / 2 - w / 2
        spots = [Box(x, y1 - h - 4, w, h), Box(x, y1 + 4, w, h)]
    else:
        y = (y1 + y2) / 2 - h / 2
        spots = [Box(x1 + 5, y, w, h), Box(x1 - w - 5, y, w, h)]
    return next((b for b in spots if not any(b.overlaps(o) for o in obstacles)), spots[0])


def shift(g: Graph, dx: float, dy: float) -> None:
    """Move everything in ``g`` (and in its subprocesses) by (dx, dy)."""
    for node in [*g.nodes.values(), *g.artifacts]:
        node.box = node.box.moved(dx, dy) if node.box else None
        node.label = node.label.moved(dx, dy) if node.label else None
        if node.inner is not None:
            shift(node.inner, dx, dy)
    for flow in [*g.flows, *g.links]:
        flow.points = [(x + dx, y + dy) for x, y in flow.points]
        flow.label = flow.label.moved(dx, dy) if flow.label else None


def layout_pools(pools: list[Pool], x0: float = 100, y0: float = 100) -> None:
    """Lay out each pool's process, then stack the pools, all as wide as the widest."""
    bands = []
    for pool in pools:
        depth = max((lane.depth + 1 for lane in pool.lanes), default=1 if pool.id else 0)
        bands.append(LABEL_BAND * depth)
        if pool.graph is not None:
            layout(pool.graph, TOP_PAD, LANE_MIN_H if pool.id or pool.lanes else 0)
    width = max([g.width + b for g, b in zip((p.graph for p in pools), bands) if g] + [0])
    if any(p.graph is None for p in pools):
        width = max(width, 600)
    y = y0
    for pool, band in zip(pools, bands):
        graph = pool.graph
        height = graph.height if graph is not None else 100
        if graph is not None:
            shift(graph, x0 + band, y)
            for lane in pool.lanes:
                lx = x0 + LABEL_BAND * (lane.depth + 1)
                lane.box = Box(lx, y + graph.band_tops[lane.first], x0 + width - lx,
                               sum(graph.band_heights[lane.first:lane.last + 1]))
        pool.box = Box(x0, y, width, height)
        y += height + POOL_GAP


def route_message(a: Box, b: Box) -> list[Point]:
    """A message flow between two pools: straight down (or up), or with one dogleg."""
    if a.bottom <= b.y:
        y1, y2 = a.bottom, b.y
    elif b.bottom <= a.y:
        y1, y2 = a.y, b.bottom
    else:  # side by side in one pool, which BPMN forbids; still draw it
        return [(a.right, a.cy), (b.x, b.cy)]
    lo, hi = max(a.x, b.x), min(a.right, b.right)
    if lo < hi:
        x = (lo + hi) / 2
        return [(x, y1), (x, y2)]
    mid = (y1 + y2) / 2
    return [(a.cx, y1), (a.cx, mid), (b.cx, mid), (b.cx, y2)]
