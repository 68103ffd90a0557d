"""The explorer's Jupyter widget: an ``anywidget.AnyWidget`` around an :class:`Explorer`.

State travels as traitlets (``scene``: the drawing, sent again only when the structure changes;
``state``: texts, widths and the backward steps; ``step``, ``selected``, ``target``: what the
reader looks at; ``explain``: chain-rule tables, computed when a node is clicked; ``inputs``:
the sliders; ``error``: why the last change was refused). A slider sends a custom message
``{"type": "set", "name", "value"}``; the Python side recomputes and updates the traits. The
front end is ``static/explore.js``, the same module the saved page runs. Imports anywidget and
traitlets (the ``widgets`` extra) and micrograd_x's explorer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

if TYPE_CHECKING:
    from micrograd_x.explore import Explorer

__all__ = ["ExplorerWidget"]

_STATIC = Path(__file__).resolve().parent / "static"


class ExplorerWidget(anywidget.AnyWidget):
    """The widget; create it through :attr:`Explorer.widget <micrograd_x.explore.Explorer.widget>`.

    Attributes:
        explorer: The explorer it shows.
    """

    _esm = _STATIC / "explore.js"
    _css = _STATIC / "explore.css"

    scene = traitlets.Dict().tag(sync=True)
    state = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    target = traitlets.Unicode("").tag(sync=True)
    explain = traitlets.Dict().tag(sync=True)
    inputs: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, explorer: Explorer, **kwargs: Any) -> None:
        super().__init__(
            scene=explorer.scene(),
            state=explorer.state(),
            inputs=explorer.input_controls(),
            **kwargs,
        )
        self.explorer = explorer
        explorer.subscribe(self._refresh)
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """Handle a message from the front end (``{"type": "set", "name", "value"}``)."""
        if not isinstance(content, dict) or content.get("type") != "set":
            return
        self.set_input(str(content.get("name")), content.get("value"))

    def set_input(self, name: str, value: Any) -> None:
        """Set an input as a slider does: recompute, or show why not and keep the old state."""
        try:
            self.explorer.set_input(name, value)  # calls _refresh through the subscription
        except Exception as e:  # shown to the reader; the explorer is unchanged
            self.error = f"{type(e).__name__}: {e}"
            self.inputs = self.explorer.input_controls()
            self.send_state("inputs")  # put the slider back even if the list is equal

    def _refresh(self) -> None:
        """Show the explorer's current values (after any change of its inputs)."""
        scene = self.explorer.scene()
        with self.hold_sync():
            self.error = ""
            self.explain = {}
            if scene is not self.scene:
                self.scene = scene
                if self.selected and self.selected not in _ids(scene):
                    self.selected = ""
                    self.target = ""
            self.state = self.explorer.state()
            self.inputs = self.explorer.input_controls()
            self.step = min(self.step, len(self.state["steps"]))
            self._explain_selected()

    @traitlets.observe("selected", "target")
    def _on_select(self, _change: Any) -> None:
        self._explain_selected()

    def _explain_selected(self) -> None:
        node, target = self.selected, self.target
        if not node:
            return
        key = f"{node}<{target}" if target else node
        if key in self.explain:
            return
        try:
            text = self.explorer.explain_html(node, target)
        except KeyError as e:
            text = f"<p>{e}</p>"
        self.explain = {**self.explain, key: text}


def _ids(scene: dict[str, Any]) -> set[str]:
    return {n["id"] for n in scene.get("nodes", [])}
