"""The components besides the LMS that `make run` starts; each one's command belongs to its package."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .launcher import Component


def extra_components(before_lms: bool) -> list["Component"]:
    return []
