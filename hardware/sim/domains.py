"""Table backgrounds and lightings per domain split, after the paper's protocol.

`seen` and `unseen-objects` use the white table under white light (the demonstration setup).
`unseen-backgrounds` draws one of six table appearances never used in demonstrations;
`unseen-lighting` draws one of three lightings never used in demonstrations, one of them a
moving "disco" light that changes with sim time (the model builder animates it).
"""

from __future__ import annotations

from dexagent.hardware.sim.scene_spec import Background, Lighting, LightSpec

WHITE_TABLE = Background("white", "flat", (0.93, 0.93, 0.93), (0.93, 0.93, 0.93))

UNSEEN_BACKGROUNDS: tuple[Background, ...] = (
    Background("checker", "checker", (0.12, 0.12, 0.12), (0.88, 0.88, 0.88), repeat=(10.0, 10.0)),
    Background("wood", "gradient", (0.62, 0.42, 0.22), (0.36, 0.22, 0.10)),
    Background("granite", "noise", (0.62, 0.60, 0.58), (0.22, 0.22, 0.24), repeat=(4.0, 4.0)),
    Background("dark", "flat", (0.10, 0.10, 0.12), (0.10, 0.10, 0.12)),
    Background("yellow_cloth", "flat", (0.92, 0.78, 0.30), (0.92, 0.78, 0.30)),
    Background("blue_tiles", "checker", (0.20, 0.35, 0.75), (0.85, 0.88, 0.95), repeat=(5.0, 5.0)),
)

# The seen light: a bright overhead key light and a softer fill from the robot's side.
WHITE_LIGHT = Lighting(
    "white",
    (
        LightSpec((0.5, 0.0, 1.6), (0.0, 0.0, -1.0), (0.75, 0.75, 0.75), (0.25, 0.25, 0.25)),
        LightSpec((-0.3, 0.0, 1.0), (0.6, 0.0, -0.8), (0.3, 0.3, 0.3)),
    ),
)

UNSEEN_LIGHTINGS: tuple[Lighting, ...] = (
    Lighting("dim", (LightSpec((0.5, 0.0, 1.6), (0.0, 0.0, -1.0), (0.22, 0.22, 0.22), (0.06, 0.06, 0.06)),)),
    Lighting(
        "coloured",
        (
            LightSpec((0.5, -0.6, 1.2), (0.0, 0.45, -0.9), (0.85, 0.35, 0.2), (0.12, 0.05, 0.05)),
            LightSpec((0.5, 0.6, 1.2), (0.0, -0.45, -0.9), (0.2, 0.3, 0.85)),
        ),
    ),
    # Disco: saturated lights from three sides; `moving` makes the builder swing and recolour them.
    Lighting(
        "disco",
        (
            LightSpec((0.9, 0.0, 1.2), (-0.4, 0.0, -0.9), (0.9, 0.1, 0.6), (0.05, 0.05, 0.05)),
            LightSpec((0.3, -0.7, 1.2), (0.2, 0.5, -0.8), (0.1, 0.8, 0.3)),
            LightSpec((0.3, 0.7, 1.2), (0.2, -0.5, -0.8), (0.2, 0.3, 1.0)),
        ),
        moving=True,
    ),
)


def backgrounds_for(split: str) -> tuple[Background, ...]:
    """The table appearances a scene of `split` may draw from."""
    return UNSEEN_BACKGROUNDS if split == "unseen-backgrounds" else (WHITE_TABLE,)


def lightings_for(split: str) -> tuple[Lighting, ...]:
    """The lightings a scene of `split` may draw from."""
    return UNSEEN_LIGHTINGS if split == "unseen-lighting" else (WHITE_LIGHT,)
