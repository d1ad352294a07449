"""The one plot style of the book: a colour-blind-safe palette, and a marker and a line
style for every colour, so that no plot tells classes or curves apart by colour alone.

Design: ``docs/accessibility.md``. Every helper of :mod:`course_nn.plotting` draws with
these constants, and importing :mod:`course_nn.plotting` applies :func:`rc_params` to
matplotlib, so that the chapters' own ``ax.plot`` calls and the ``"C0"``, ``"C1"``, ...
colour names use the same palette.

The palette is Okabe and Ito's (2008), ordered like matplotlib's ``tab10`` so that the
names keep their meaning: ``C0`` blue, ``C1`` orange, ``C2`` (bluish) green, ``C3``
vermillion (the red), ``C7`` grey. :mod:`course_nn.plotting.colour_vision` simulates
colour-vision deficiency to check that the colours stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
from cycler import Cycler, cycler

#: Okabe-Ito colours in the order of matplotlib's C0, C1, ... (C7 is a neutral grey).
PALETTE = (
    "#0072B2",  # C0 blue
    "#E69F00",  # C1 orange
    "#009E73",  # C2 bluish green
    "#D55E00",  # C3 vermillion
    "#CC79A7",  # C4 reddish purple
    "#56B4E9",  # C5 sky blue
    "#F0E442",  # C6 yellow (light: for fills, not for thin lines or text)
    "#999999",  # C7 grey
)
#: Scatter markers, one per class (class m uses ``MARKERS[m % len(MARKERS)]``).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
#: Line styles of the colour cycle: the k-th curve of a plot is dashed differently from
#: the others as well as coloured differently.
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)), (0, (3, 2, 1, 2)))
#: Colours of classes named after a colour (the lectures' toy problem): the palette's own.
NAMED_COLOURS = {"blue": PALETTE[0], "orange": PALETTE[1], "green": PALETTE[2], "red": PALETTE[3]}
#: The sequential map for a probability or an intensity: perceptually uniform and
#: readable with every common colour-vision deficiency.
SEQUENTIAL_CMAP = "cividis"


def class_style(m: int, name: str | None = None) -> dict:
    """Colour and marker of class m; a class named after a colour gets that colour.

    Returns keyword arguments for ``ax.scatter``: ``color`` and ``marker``.
    """
    colour = NAMED_COLOURS.get(name or "", PALETTE[m % len(PALETTE)])
    return {"color": colour, "marker": MARKERS[m % len(MARKERS)]}


def class_colours(class_names: Sequence[str]) -> list[str]:
    """One colour per class, in label order (see :func:`class_style`)."""
    return [class_style(m, name)["color"] for m, name in enumerate(class_names)]


def curve_style(k: int) -> dict:
    """Colour, line style and marker of the k-th curve of a plot (``ax.plot`` kwargs).

    The markers are spread along the curve (``markevery``) so that dense curves stay
    readable; pass ``marker=None`` to draw none.
    """
    return {"color": PALETTE[k % len(PALETTE)], "ls": LINESTYLES[k % len(LINESTYLES)],
            "marker": MARKERS[k % len(MARKERS)], "markevery": 0.1, "ms": 4}


def prop_cycle() -> Cycler:
    """The axes colour cycle: each colour with its own line style."""
    return cycler(color=list(PALETTE)) + cycler(linestyle=list(LINESTYLES))


def rc_params() -> dict:
    """The matplotlib settings of the book's style (applied by :func:`use_style`)."""
    return {
        "axes.prop_cycle": prop_cycle(),
        "image.cmap": SEQUENTIAL_CMAP,
        "legend.handlelength": 3.0,  # long enough to show each line style in a legend
    }


def use_style() -> None:
    """Make the book's style matplotlib's default (done on import of course_nn.plotting)."""
    mpl.rcParams.update(rc_params())
