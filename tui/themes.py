"""A theme for a wall monitor read from across a room: black ground, saturated status colours."""

from __future__ import annotations

from textual.theme import Theme

WALL = Theme(
    name="teamboard-wall",
    primary="#40C4FF",
    secondary="#82B1FF",
    accent="#FFFFFF",
    foreground="#F5F5F5",
    background="#000000",
    surface="#0B0B0B",
    panel="#1C1C1C",
    success="#00E676",
    warning="#FFC400",
    error="#FF3D3D",
    dark=True,
)
