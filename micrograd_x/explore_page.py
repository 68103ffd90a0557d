"""The explorer as one self-contained HTML page: inline SVG, inline script, no network.

The page embeds the explorer's front-end module (the same ``static/explore.js`` the Jupyter widget
loads), its stylesheet, the drawing, and the precomputed state and chain-rule tables as JSON. A
Content-Security-Policy allows exactly that inline script and style and nothing else, so the page
cannot fetch anything even if a browser tried. Imports the standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from typing import Any

__all__ = ["SCRIPT", "STYLE", "page_html"]


def _static(name: str) -> str:
    return (
        resources.files("micrograd_x").joinpath("static").joinpath(name).read_text(encoding="utf-8")
    )


SCRIPT = "explore.js"
"""The front-end module, shipped as package data in ``micrograd_x/static``."""
STYLE = "explore.css"
"""Its stylesheet."""


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _json_for_html(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment inside it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(
    scene: dict[str, Any], state: dict[str, Any], explanations: dict[str, str], title: str
) -> str:
    """The whole page as text.

    Args:
        scene: :meth:`Explorer.scene <micrograd_x.explore.Explorer.scene>` (drawing, hooks).
        state: :meth:`Explorer.state <micrograd_x.explore.Explorer.state>`.
        explanations: Chain-rule tables by key (``"v3"``, ``"v3<v0"``), as HTML fragments.
        title: The page title (user text: escaped here).

    Returns:
        The HTML document.
    """
    module = _static(SCRIPT)
    if "</script" in module.lower():
        raise RuntimeError(f"explore: {SCRIPT} must not contain '</script'")
    script = module + '\nmountPage(document.getElementById("mgx"), "mgx-data");\n'
    style = _static(STYLE)
    data = {
        "scene": {k: v for k, v in scene.items() if k != "svg"},
        "state": state,
        "explain": explanations,
    }
    csp = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="micrograd_x explore">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n"
        f'<main class="mgx-page">\n<h1>{html.escape(title)}</h1>\n'
        f'<div class="mgx" id="mgx"><div class="mgx-figure">{scene["svg"]}</div></div>\n'
        '<p class="mgx-note">Made with micrograd_x\'s explore(): ◀ ▶ step through the '
        "backward pass; click a box for its chain rule.</p>\n</main>\n"
        f'<script type="application/json" id="mgx-data">{_json_for_html(data)}</script>\n'
        f'<script type="module">{script}</script>\n'
        "</body>\n</html>\n"
    )
