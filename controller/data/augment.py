"""RGB augmentation for trainable image encoders, on whole batches in torch.

A training config lists its augmentations by type name and probability, in the order they apply
(`build_augments`); each is a small transform with one interface: `draw(batch, generator)` draws
what both cameras of a sample share (a table's colours, a light) or nothing, and
`__call__(rgb, table, drawn, generator)` applies it to one camera's images. One that paints in the
table's own coordinates (`TablePattern`) says `uses_plane = True` and is also given `plane`, where
each pixel's ray meets the table (`table_plane.py`).

Colour jitter's strengths follow diffusion_policy / DexGraspVLA's training code (torchvision's
`ColorJitter(brightness=0.3, contrast=0.4, saturation=0.5, hue=0.08)`): every
image of the batch draws its own factors from an explicit generator, so a run is
reproducible from its seed and step. Hue is rotated in YIQ space (a linear map that
keeps luma) rather than through HSV as torchvision does: the same kind of colour
shift at a fraction of the cost. Frozen encoders get no jitter: their features
are cached once per frame, and the paper relies on their invariance instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

import torch


class AugmentError(ValueError):
    """An augmentation is unknown or has settings out of range."""


class ImageAugment(Protocol):
    probability: float

    def draw(self, batch: int, generator: torch.Generator) -> Any: ...

    def __call__(
        self, rgb: torch.Tensor, table: torch.Tensor | None, drawn: Any, generator: torch.Generator
    ) -> torch.Tensor: ...


class PlaneAugment(Protocol):
    """An augmentation that paints in table coordinates (`uses_plane = True`): also given `plane`."""

    probability: float
    uses_plane: ClassVar[bool]

    def draw(self, batch: int, generator: torch.Generator) -> Any: ...

    def __call__(
        self,
        rgb: torch.Tensor,
        table: torch.Tensor | None,
        drawn: Any,
        generator: torch.Generator,
        plane: torch.Tensor | None = None,
    ) -> torch.Tensor: ...


@dataclass(frozen=True)
class ColorJitter:
    """Ranges of the random factors: brightness/contrast/saturation in [1-x, 1+x], hue shift in [-x, x]."""

    probability: float = 1.0  # the factors are drawn per image either way; 1.0 jitters every image
    brightness: float = 0.3
    contrast: float = 0.4
    saturation: float = 0.5
    hue: float = 0.08

    def __post_init__(self) -> None:
        _check_probability(self)
        for name in ("brightness", "contrast", "saturation"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"ColorJitter.{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"ColorJitter.hue must be in [0, 0.5], got {self.hue}")

    def draw(self, batch: int, generator: torch.Generator) -> None:
        return None  # every image draws its own factors

    def __call__(
        self, rgb: torch.Tensor, table: torch.Tensor | None, drawn: Any, generator: torch.Generator
    ) -> torch.Tensor:
        """Jitter float (B, 3, S, S) images in [0, 1]; returns a new tensor in [0, 1]."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"ColorJitter expects (B, 3, S, S) images, got shape {tuple(rgb.shape)}")
        batch = rgb.shape[0]

        def factors(spread: float) -> torch.Tensor:
            # Drawn on the CPU generator so the draws are identical on every device.
            draw = torch.rand(batch, generator=generator) * 2 * spread + (1 - spread)
            return draw.to(rgb.device, rgb.dtype).view(batch, 1, 1, 1)

        brightness = factors(self.brightness)
        contrast = factors(self.contrast)
        saturation = factors(self.saturation)
        hue_shift = (torch.rand(batch, generator=generator) * 2 - 1) * self.hue

        out = (rgb * brightness).clamp(0, 1)
        mean_grey = _grey(out).mean(dim=(1, 2, 3), keepdim=True)
        out = (mean_grey + (out - mean_grey) * contrast).clamp(0, 1)
        grey = _grey(out)
        out = (grey + (out - grey) * saturation).clamp(0, 1)
        if self.hue > 0:
            out = _shift_hue(out, hue_shift.to(rgb.device, rgb.dtype))
        if self.probability < 1.0:  # drawn only then: a jitter of every image keeps its random stream
            chosen = torch.rand(batch, generator=generator) < self.probability
            out = torch.where(chosen.to(rgb.device).view(batch, 1, 1, 1), out, rgb)
        return out


def _grey(rgb: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma (B, 1, S, S), as torchvision's rgb_to_grayscale."""
    return (0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]).to(rgb.dtype)


# RGB <-> YIQ (NTSC): luma Y and two chroma axes. A hue rotation is a rotation of (I, Q) about
# the grey axis: linear, so a whole batch is one (B, 3, 3) matmul instead of an HSV round trip
# (about 20x faster on CPU, which matters when jitter runs every step of a 2-core training).
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def _shift_hue(rgb: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of (B, 3, S, S) images by shift (B,) turns, keeping luma; clamped to [0, 1]."""
    angle = shift.to(torch.float32) * 2 * torch.pi
    cos, sin = torch.cos(angle), torch.sin(angle)
    rotation = torch.zeros(len(shift), 3, 3)
    rotation[:, 0, 0] = 1.0
    rotation[:, 1, 1], rotation[:, 1, 2] = cos, -sin
    rotation[:, 2, 1], rotation[:, 2, 2] = sin, cos
    matrix = (_YIQ_TO_RGB @ rotation @ _RGB_TO_YIQ).to(rgb.device, rgb.dtype)  # (B, 3, 3)
    out = torch.einsum("bij,bjhw->bihw", matrix, rgb)
    return out.clamp(0, 1)


@dataclass(frozen=True)
class RandomConv:
    """Random-convolution augmentation (Xu et al., ICLR 2021) against unseen textures and colours.

    With probability `probability` an image is passed through a freshly drawn random
    convolution (3 -> 3 channels, weights N(0, 1 / (3 k^2)) per image, one kernel size k
    from `kernel_sizes` per batch), rescaled to [0, 1] and blended with the original by a random
    alpha in [0, 1]. Unlike colour jitter it can invert contrast and swap colours, so a
    policy trained on one white table also sees dark, coloured and re-textured ones.
    """

    probability: float = 0.5
    kernel_sizes: tuple[int, ...] = (1, 3)

    def __post_init__(self) -> None:
        _check_probability(self)
        if not self.kernel_sizes or any(k < 1 or k % 2 == 0 for k in self.kernel_sizes):
            raise ValueError(f"RandomConv.kernel_sizes must be odd and positive, got {self.kernel_sizes}")

    def draw(self, batch: int, generator: torch.Generator) -> None:
        return None  # every image draws its own kernel

    def __call__(
        self, rgb: torch.Tensor, table: torch.Tensor | None, drawn: Any, generator: torch.Generator
    ) -> torch.Tensor:
        """Augment float (B, 3, S, S) images in [0, 1]; returns images in [0, 1]."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"RandomConv expects (B, 3, S, S) images, got shape {tuple(rgb.shape)}")
        batch = rgb.shape[0]
        # Every draw comes from the CPU generator, in a fixed order: identical on every device.
        chosen = torch.rand(batch, generator=generator) < self.probability
        size_index = int(torch.randint(len(self.kernel_sizes), (1,), generator=generator))
        k = self.kernel_sizes[size_index]  # one kernel size per batch keeps it a single grouped conv
        weight = torch.randn(batch * 3, 3, k, k, generator=generator) / (3 * k * k) ** 0.5
        alpha = torch.rand(batch, generator=generator).view(batch, 1, 1, 1)
        if not bool(chosen.any()):
            return rgb
        flat = rgb.reshape(1, batch * 3, *rgb.shape[2:])
        out = torch.nn.functional.conv2d(flat, weight.to(rgb), padding=k // 2, groups=batch)
        out = out.view_as(rgb)
        low = out.amin(dim=(1, 2, 3), keepdim=True)
        high = out.amax(dim=(1, 2, 3), keepdim=True)
        out = (out - low) / (high - low).clamp_min(1e-6)
        alpha = alpha.to(rgb)
        mixed = alpha * rgb + (1 - alpha) * out
        return torch.where(chosen.to(rgb.device).view(batch, 1, 1, 1), mixed, rgb).clamp(0, 1)


@dataclass(frozen=True)
class TableRetexture:
    """Re-texture the table top: background randomisation from demos on one white table.

    With probability `probability` a sample's table pixels (the sim's ground-truth table mask,
    recorded with every frame) get a new texture: a flat colour, or a smooth random field
    between two colours (`grid` cells across, drawn per batch). Both cameras of a sample share
    the colours; each gets its own field. The new albedo is multiplied by the pixel's shading
    (its luma over the seen table's), so the arm's shadow and the light's falloff stay.
    """

    probability: float = 0.5
    grids: tuple[int, ...] = (1, 2, 3, 4, 6, 8)  # 1: a flat colour
    table_luma: float = 0.93  # the seen (white) table's albedo

    def __post_init__(self) -> None:
        _check_probability(self)
        if not self.grids or any(g < 1 for g in self.grids):
            raise ValueError(f"TableRetexture.grids must be positive, got {self.grids}")

    def draw(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample: whether it is re-textured (B,) and its two colours (B, 2, 3)."""
        chosen = torch.rand(batch, generator=generator) < self.probability
        colours = torch.rand(batch, 2, 3, generator=generator)
        return chosen, colours

    def __call__(
        self,
        rgb: torch.Tensor,
        table: torch.Tensor | None,
        drawn: tuple[torch.Tensor, torch.Tensor],
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Re-texture float (B, 3, S, S) images in [0, 1] where `table` (B, 1, S, S) is 1."""
        if table is None:
            raise ValueError("TableRetexture needs the table masks that `dexagent collect` records")
        if rgb.ndim != 4 or rgb.shape[1] != 3 or table.shape != (rgb.shape[0], 1, *rgb.shape[2:]):
            raise ValueError(
                f"TableRetexture expects (B, 3, S, S) images and (B, 1, S, S) table masks, got "
                f"{tuple(rgb.shape)} and {tuple(table.shape)}"
            )
        chosen, colours = drawn
        batch, size = rgb.shape[0], rgb.shape[-1]
        field = _draw_coarse_field(self.grids, batch, generator)
        if not bool(chosen.any()):
            return rgb
        field = _upsample_field(field, size, rgb)  # one cell upsamples to a constant: a flat colour
        low, high = colours[:, 0].to(rgb).view(batch, 3, 1, 1), colours[:, 1].to(rgb).view(batch, 3, 1, 1)
        albedo = low + (high - low) * field
        return _paint_table(rgb, table, chosen, albedo, self.table_luma)


def _paint_table(
    rgb: torch.Tensor, table: torch.Tensor, chosen: torch.Tensor, albedo: torch.Tensor, table_luma: float
) -> torch.Tensor:
    """`albedo` (B, 3, S, S) on the table pixels of the chosen samples, times each pixel's shading
    (its luma over the seen table's albedo), so the arm's shadow and the light's falloff stay."""
    shading = (_grey(rgb) / table_luma).clamp(0, 1.5)
    textured = (albedo * shading).clamp(0, 1)
    weight = table.to(rgb) * chosen.to(rgb).view(rgb.shape[0], 1, 1, 1)
    return rgb + (textured - rgb) * weight


PATTERNS = ("checks", "stripes", "grid", "tiles")


@dataclass(frozen=True)
class TablePattern:
    """Paint a pattern on the table top in the table's own coordinates: perspective-correct.

    `TableRetexture` paints smooth fields in image space; hard-edged patterns (a checkerboard,
    tiles, planks) drawn that way do not shrink with distance nor line up between the two
    cameras, so a policy cannot learn to see through them as it must on a real patterned
    table. Here each table pixel's (x, y) on the table plane (`table_plane.table_coordinates`,
    from the frame's camera pose) picks the colour: with probability `probability` a sample
    gets one of PATTERNS (two-colour checks or stripes, grout lines around tiles, or tiles of
    random shades between two colours), its cell size drawn log-uniform in `cell` (m), turned
    by a random angle and shifted by a random offset. Both cameras of a sample share the
    pattern, so the wrist sees up close what the head sees from afar. The pattern is drawn on
    a finer grid than the image and averaged down (`plane` comes at a multiple of the image's
    side), so cells near the pixel size blur into their mean as a rendered texture does.
    Shading is kept as in `TableRetexture`.
    """

    probability: float = 0.5
    cell: tuple[float, float] = (0.02, 0.2)  # m, one square / stripe / tile across
    grout: tuple[float, float] = (0.05, 0.2)  # the grid's line width, as a share of a cell
    table_luma: float = 0.93  # the seen (white) table's albedo
    uses_plane: ClassVar[bool] = True  # the dataset passes `plane`, the pixels' table coordinates

    def __post_init__(self) -> None:
        _check_probability(self)
        low, high = self.cell
        if not 0.0 < low <= high:
            raise ValueError(f"TablePattern.cell must be a range 0 < low <= high (m), got {self.cell}")
        low, high = self.grout
        if not 0.0 < low <= high < 0.5:
            raise ValueError(f"TablePattern.grout must be a range 0 < low <= high < 0.5, got {self.grout}")

    def draw(self, batch: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Per sample: whether it is painted, which pattern, its cell (m), angle, offset, grout
        width and two colours; a seed for the tiles' shades."""
        low, high = self.cell
        return {
            "chosen": torch.rand(batch, generator=generator) < self.probability,
            "pattern": torch.randint(len(PATTERNS), (batch,), generator=generator),
            "cell": low * (high / low) ** torch.rand(batch, generator=generator),
            "angle": torch.pi * torch.rand(batch, generator=generator),
            "offset": torch.rand(batch, 2, generator=generator),
            "grout": self.grout[0] + (self.grout[1] - self.grout[0]) * torch.rand(batch, generator=generator),
            "colours": torch.rand(batch, 2, 3, generator=generator),
            "seed": 100 * torch.rand(batch, generator=generator),
        }

    def __call__(
        self,
        rgb: torch.Tensor,
        table: torch.Tensor | None,
        drawn: dict[str, torch.Tensor],
        generator: torch.Generator,
        plane: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Paint float (B, 3, S, S) images in [0, 1] where `table` (B, 1, S, S) is 1; `plane`
        (B, 2, kS, kS): the table-plane (x, y) in m that each pixel of a k-times finer grid sees."""
        if table is None or plane is None:
            raise ValueError(
                "TablePattern needs the table masks that `dexagent collect` records and the "
                "pixels' table coordinates (sim stores only)"
            )
        batch, size = rgb.shape[0], rgb.shape[-1]
        fine = plane.shape[-1]
        if (
            rgb.ndim != 4
            or rgb.shape[1] != 3
            or table.shape != (batch, 1, size, size)
            or plane.shape != (batch, 2, fine, fine)
            or fine % size
        ):
            raise ValueError(
                f"TablePattern expects (B, 3, S, S) images, (B, 1, S, S) table masks and (B, 2, kS, kS) "
                f"table coordinates, got {tuple(rgb.shape)}, {tuple(table.shape)} and {tuple(plane.shape)}"
            )
        chosen = drawn["chosen"]
        if not bool(chosen.any()):
            return rgb
        painted = torch.nonzero(chosen).flatten()  # only these samples' patterns are drawn
        share = _pattern_share(plane[painted], {key: value[painted] for key, value in drawn.items()})
        share = torch.nn.functional.avg_pool2d(share, fine // size) if fine > size else share
        colours = drawn["colours"][painted].to(rgb)
        low, high = colours[:, 0].view(-1, 3, 1, 1), colours[:, 1].view(-1, 3, 1, 1)
        albedo = torch.ones_like(rgb)
        albedo[painted] = low + (high - low) * share.to(rgb)
        return _paint_table(rgb, table, chosen, albedo, self.table_luma)


def _pattern_share(plane: torch.Tensor, drawn: dict[str, torch.Tensor]) -> torch.Tensor:
    """float32 (B, 1, H, W) share of the second colour at each table point of `plane` (B, 2, H, W)."""
    batch = plane.shape[0]

    def per_sample(name: str) -> torch.Tensor:
        return drawn[name].to(torch.float32).view(batch, 1, 1)

    x, y = torch.nan_to_num(plane.float(), nan=0.0).unbind(1)  # off-plane pixels are not table
    angle, cell = per_sample("angle"), per_sample("cell")
    offset = drawn["offset"].float()
    u = (angle.cos() * x + angle.sin() * y) / cell + offset[:, 0].view(batch, 1, 1)
    v = (angle.cos() * y - angle.sin() * x) / cell + offset[:, 1].view(batch, 1, 1)
    iu, iv = torch.floor(u), torch.floor(v)
    share = torch.empty_like(u)
    for index, name in enumerate(PATTERNS):
        rows = torch.nonzero(drawn["pattern"] == index).flatten()
        if not len(rows):
            continue
        cu, cv = iu[rows], iv[rows]
        if name == "checks":
            share[rows] = torch.remainder(cu + cv, 2)
        elif name == "stripes":
            share[rows] = torch.remainder(cu, 2)
        elif name == "grid":
            grout = per_sample("grout")[rows]
            share[rows] = ((u[rows] - cu < grout) | (v[rows] - cv < grout)).float()
        else:  # tiles: a fixed random shade per cell, from the classic sin-fract hash of its indices
            seed = per_sample("seed")[rows]
            share[rows] = torch.frac(torch.abs(torch.sin(cu * 12.9898 + cv * 78.233 + seed) * 43758.5453))
    return share[:, None]


@dataclass(frozen=True)
class Relight:
    """Re-light the whole image: lighting randomisation from demos under one white light.

    With probability `probability` a sample's images are multiplied by a smooth per-channel gain
    field: an overall brightness in `brightness`, times a field between two tints (`grid` cells
    across, drawn per batch; 1 is one tint everywhere). A tint takes up to `tint` off each channel,
    so a light can be dim, coloured, or coloured differently from two sides. Both cameras of a
    sample share the brightness and the tints (one light source); each gets its own field. The
    sim's unseen lightings measure about 0.4x (dim) and 0.63-0.95x per channel (coloured, disco)
    of the seen light on the table, inside these ranges; their exact colours are not used.
    """

    probability: float = 0.5
    brightness: tuple[float, float] = (0.3, 1.1)
    tint: float = 0.7
    grids: tuple[int, ...] = (1, 2, 3)

    def __post_init__(self) -> None:
        _check_probability(self)
        low, high = self.brightness
        if not 0.0 < low <= high:
            raise ValueError(f"Relight.brightness must be a range 0 < low <= high, got {self.brightness}")
        if not 0.0 <= self.tint < 1.0:
            raise ValueError(f"Relight.tint must be in [0, 1), got {self.tint}")
        if not self.grids or any(g < 1 for g in self.grids):
            raise ValueError(f"Relight.grids must be positive, got {self.grids}")

    def draw(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample: whether it is re-lit (B,) and its two gains per channel (B, 2, 3)."""
        chosen = torch.rand(batch, generator=generator) < self.probability
        low, high = self.brightness
        brightness = low + (high - low) * torch.rand(batch, 1, 1, generator=generator)
        strength = self.tint * torch.rand(batch, 2, 1, generator=generator)
        tints = 1.0 - strength * torch.rand(batch, 2, 3, generator=generator)
        return chosen, brightness * tints

    def __call__(
        self,
        rgb: torch.Tensor,
        table: torch.Tensor | None,
        drawn: tuple[torch.Tensor, torch.Tensor],
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Re-light float (B, 3, S, S) images in [0, 1]; returns images in [0, 1]."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"Relight expects (B, 3, S, S) images, got shape {tuple(rgb.shape)}")
        chosen, gains = drawn
        batch, size = rgb.shape[0], rgb.shape[-1]
        field = _draw_coarse_field(self.grids, batch, generator)
        if not bool(chosen.any()):
            return rgb
        field = _upsample_field(field, size, rgb)
        first, second = gains[:, 0].to(rgb).view(batch, 3, 1, 1), gains[:, 1].to(rgb).view(batch, 3, 1, 1)
        lit = (rgb * (first + (second - first) * field)).clamp(0, 1)
        return torch.where(chosen.to(rgb.device).view(batch, 1, 1, 1), lit, rgb)


def _draw_coarse_field(grids: tuple[int, ...], batch: int, generator: torch.Generator) -> torch.Tensor:
    """A random (B, 1, g, g) field in [0, 1], one grid size g from `grids` per batch."""
    grid = grids[int(torch.randint(len(grids), (1,), generator=generator))]
    return torch.rand(batch, 1, grid, grid, generator=generator)


def _upsample_field(field: torch.Tensor, size: int, like: torch.Tensor) -> torch.Tensor:
    """A coarse field smoothly upsampled to (B, 1, size, size), in [0, 1], on `like`'s device and dtype."""
    field = torch.nn.functional.interpolate(field, size=(size, size), mode="bicubic", align_corners=False)
    return field.clamp(0, 1).to(like)


def _check_probability(augment: Any) -> None:
    if not 0.0 <= augment.probability <= 1.0:
        name = type(augment).__name__
        raise ValueError(f"{name}.probability must be in [0, 1], got {augment.probability}")


# Type names a training config uses, in no particular order (the config's list gives the order).
AUGMENTS: dict[str, type] = {
    "retexture_table": TableRetexture,
    "table_pattern": TablePattern,
    "relight": Relight,
    "color_jitter": ColorJitter,
    "random_conv": RandomConv,
}
# What a run gets when its config names none: the colour jitter of diffusion_policy / DexGraspVLA.
DEFAULT_AUGMENT: tuple[tuple[str, float], ...] = (("color_jitter", 1.0),)


def check_augment(specs: Sequence[Sequence[Any]]) -> tuple[tuple[str, float], ...]:
    """Validated (type, probability) pairs; unknown types and probabilities outside [0, 1] raise."""
    checked = []
    for spec in specs:
        if len(spec) != 2 or not isinstance(spec[0], str) or isinstance(spec[1], bool):
            raise AugmentError(f"an augmentation is a (type, probability) pair, got {list(spec)!r}")
        name, probability = spec[0], spec[1]
        if name not in AUGMENTS:
            raise AugmentError(f"unknown augmentation {name!r}; known: {', '.join(sorted(AUGMENTS))}")
        if not isinstance(probability, int | float) or not 0.0 <= float(probability) <= 1.0:
            raise AugmentError(f"augmentation {name}: probability must be in [0, 1], got {probability!r}")
        checked.append((name, float(probability)))
    return tuple(checked)


def parse_augment(text: str) -> tuple[str, float]:
    """`"relight=0.5"` -> ("relight", 0.5): the command line's form of one augmentation."""
    name, sep, value = text.partition("=")
    try:
        probability = float(value) if sep else 1.0
    except ValueError:
        raise AugmentError(f"--augment {text!r}: expected TYPE=PROBABILITY, e.g. relight=0.5") from None
    return check_augment([(name.strip(), probability)])[0]


def uses_plane(augments: Sequence[ImageAugment]) -> bool:
    """Whether any of `augments` paints in table coordinates (and so needs `plane`)."""
    return any(getattr(augment, "uses_plane", False) for augment in augments)


def apply_augments(
    augments: Sequence[ImageAugment],
    drawn: Sequence[Any],
    rgb: torch.Tensor,
    table: torch.Tensor | None,
    generator: torch.Generator,
    plane: torch.Tensor | None = None,
) -> torch.Tensor:
    """One camera's images through `augments` in order, each with what it drew for the batch;
    those that paint in table coordinates also get `plane`."""
    for augment, shared in zip(augments, drawn, strict=True):
        if getattr(augment, "uses_plane", False):
            rgb = cast(PlaneAugment, augment)(rgb, table, shared, generator, plane=plane)
        else:
            rgb = augment(rgb, table, shared, generator)
    return rgb


def build_augments(specs: Sequence[Sequence[Any]]) -> list[ImageAugment]:
    """The transforms for a config's (type, probability) list, in its order; probability 0 drops one."""
    return [AUGMENTS[name](probability) for name, probability in check_augment(specs) if probability > 0]
