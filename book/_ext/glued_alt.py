"""Alt text of the book's figures with glued numbers (docs/accessibility.md, *Alt text*).

A figure's alt text lives in its code cell's metadata (``mystnb.image.alt``), static
JSON that myst-nb copies onto the image. A number in it that the chapter's code
produced is written as in prose, ``{glue:text}`key:.2f``` (or ``{glue}`key```), and
this post-transform replaces it with the value the chapter glued, read from myst-nb's
glue data of the same document and formatted as the prose role formats it. An unknown
key is a build warning, and the book builds with warnings as errors.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: ``{glue:text}`key:fmt``` or ``{glue}`key```: the prose roles, in alt text.
PLACEHOLDER = re.compile(r"\{glue(?::text)?\}`([^`:]+)(?::([^`]*))?`")


def fill(alt: str, glued: dict[str, str]) -> tuple[str, list[str]]:
    """``alt`` with every placeholder replaced by its glued value (``text/plain``,
    formatted with the placeholder's format spec); also the keys that were not glued."""
    from myst_nb.core.variables import format_plain_text

    missing: list[str] = []

    def value(match: re.Match) -> str:
        key, spec = match.group(1), match.group(2) or ""
        if key not in glued:
            missing.append(key)
            return match.group(0)
        return format_plain_text(glued[key], spec)

    return PLACEHOLDER.sub(value, alt), missing


def plain_values(glue_data: dict[str, Any]) -> dict[str, str]:
    """key -> ``text/plain`` of myst-nb's glue data of one document."""
    return {key: output.get("data", {}).get("text/plain", "")
            for key, output in glue_data.items()}


class GluedAltText(SphinxPostTransform):
    """Fill the placeholders of every image's alt text of a chapter."""

    default_priority = 6  # after myst-nb's own glue references (5)

    def apply(self, **kwargs: Any) -> None:
        from myst_nb.ext.glue.crossref import read_glue_cache

        images = [n for n in self.document.findall(nodes.image) if "{glue" in n.get("alt", "")]
        if not images:
            return
        docname = self.env.path2doc(self.document["source"])
        glued = plain_values(read_glue_cache(self.env.mystnb_config.output_folder, docname))
        for node in images:
            node["alt"], missing = fill(node["alt"], glued)
            for key in missing:
                LOGGER.warning(f"alt text: glue key {key!r} is not glued in {docname!r}",
                               location=node)


def setup(app):
    app.add_post_transform(GluedAltText)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
