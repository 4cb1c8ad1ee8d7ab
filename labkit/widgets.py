"""Small ipywidgets helpers: knobs that redraw a figure (notebook 00 on)."""
from __future__ import annotations

from typing import Any, Callable


def live(draw: Callable[..., Any], **controls: Any):
    """Call ``draw(**values)`` whenever a control changes, showing its figure/text in an Output.

    ``controls`` are ipywidgets (``FloatLogSlider``, ``Dropdown``…). Returns a ``VBox`` with the
    controls on top; ``box.refresh()`` redraws, handy in tests. ``draw`` may return a figure
    (it is shown and closed) or a string (shown as text).
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not controls:
        raise ValueError("live() needs at least one control, e.g. lr=ipywidgets.FloatLogSlider(...).")
    for name, c in controls.items():
        if not isinstance(c, w.ValueWidget):
            raise TypeError(f"control {name!r} must be an ipywidgets value widget, got {type(c).__name__}.")
    out = w.Output()

    def refresh(_: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            result = draw(**{k: c.value for k, c in controls.items()})
            if hasattr(result, "savefig"):
                display(result)
                plt.close(result)
            elif result is not None:
                print(result)

    for c in controls.values():
        c.observe(refresh, names="value")
    box = w.VBox([*controls.values(), out])
    box.refresh = refresh  # type: ignore[attr-defined]
    refresh()
    return box
