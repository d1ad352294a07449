r"""How colours look with a colour-vision deficiency, and how far apart two colours are.

Design: ``docs/accessibility.md``. Used by the tests to check that the palette of
:mod:`course_nn.plotting.style` keeps its colours apart for readers with protanopia,
deuteranopia or tritanopia (together about 1 in 12 men and 1 in 200 women).

Math
----
A deficiency is simulated by a 3 x 3 matrix :math:`T` acting on linear RGB
(Machado, Oliveira and Fernandes, 2009, severity 1):
:math:`\mathbf{c}_\text{seen} = T\,\mathbf{c}`. Distances are CIE76 colour
differences :math:`\Delta E = \lVert \mathrm{Lab}(\mathbf{c}_1) - \mathrm{Lab}(\mathbf{c}_2) \rVert_2`
(D65 white); :math:`\Delta E \approx 2.3` is just noticeable, and colours that must be
told apart at a glance in a plot need tens of units.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Machado et al. (2009) simulation matrices at full severity, on linear RGB.
DEFICIENCIES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: sRGB (linear) to CIE XYZ, D65 white.
RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805],
                       [0.2126, 0.7152, 0.0722],
                       [0.0193, 0.1192, 0.9505]])
WHITE_XYZ = RGB_TO_XYZ @ np.ones(3)


def srgb_to_linear(c: Array) -> Array:
    """Undo the sRGB transfer curve: values in [0, 1], any shape (..., 3)."""
    c = np.asarray(c, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: Array) -> Array:
    """The sRGB transfer curve, after clipping to [0, 1]."""
    c = np.clip(np.asarray(c, dtype=float), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(colour, deficiency: str) -> Array:
    """The sRGB colour (3,) that a reader with ``deficiency`` sees for ``colour``
    (any matplotlib colour); ``deficiency`` is a key of :data:`DEFICIENCIES` or "normal"."""
    rgb = np.array(to_rgb(colour))
    if deficiency == "normal":
        return rgb
    return linear_to_srgb(DEFICIENCIES[deficiency] @ srgb_to_linear(rgb))


def lab(rgb: Array) -> Array:
    """CIE L*a*b* (3,) of an sRGB colour (3,)."""
    xyz = RGB_TO_XYZ @ srgb_to_linear(rgb) / WHITE_XYZ
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(colour_1, colour_2, deficiency: str = "normal") -> float:
    """CIE76 distance between two colours as seen with ``deficiency``."""
    return float(np.linalg.norm(lab(simulate(colour_1, deficiency))
                                - lab(simulate(colour_2, deficiency))))


def worst_pair_distance(colours, deficiencies=("normal", *DEFICIENCIES)) -> tuple[float, tuple]:
    """The smallest :func:`delta_e` over all pairs of ``colours`` and all ``deficiencies``,
    and the (colour, colour, deficiency) where it occurs."""
    worst = (np.inf, ())
    for i, first in enumerate(colours):
        for second in colours[i + 1:]:
            for deficiency in deficiencies:
                worst = min(worst, (delta_e(first, second, deficiency), (first, second, deficiency)))
    return worst
