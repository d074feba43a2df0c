"""Plain help placeholders: ``voc ingest PATH`` rather than typer's ``{path}``, and no ``<bool>`` after
a flag (a flag takes no value, and ``<bool>`` reads as if ``--json true`` were needed).

typer renders these itself (typer.core), with no setting to change them, so the two methods that
produce them are replaced once, when the CLI is imported.
"""

from __future__ import annotations

from typing import Any

from typer import core


def _usage_display_name(self: core.TyperArgument) -> str:
    name = self.display_name_raw.upper() if self.metavar is None else self.display_name_raw
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


_option_type = core.TyperOption.display_type_rich


def _option_display_type(self: core.TyperOption, ctx: Any) -> str | None:
    if self.is_flag and self.metavar is None:
        return None
    return _option_type(self, ctx)


def apply() -> None:
    core.TyperArgument._usage_display_name = _usage_display_name  # type: ignore[method-assign]
    core.TyperOption.display_type_rich = _option_display_type  # type: ignore[method-assign]
