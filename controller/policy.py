"""DexGraspPolicy: observation tokens (head+mask, wrist, state+target) -> DiT -> action chunk.

Batch contract (training and inference; see controller/preprocess.py):
    head_rgb float32 (B, 3, P, P), wrist_rgb float32 (B, 3, Q, Q) in [0, 1]; P the config's
        image_size, Q its wrist_input_size (image_size unless the wrist has a size of its own)
    head_mask, first_mask float32 (B, 1, P, P) in {0, 1}
    state float32 (B, S) raw units; action float32 (B, H, A) raw units (training only); S and A are
        the config's state_dim and action_dim, one value per joint of the robot
    tick float32 (B,) ticks since the attempt started (read only with config.time_input)
    (with config.action_mode "delta" the network works on action - state; the interface stays absolute)
    optional head_features / wrist_features float32 (B, N, D): cached frozen-encoder outputs
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler
from torch import nn

from dexagent.controller.config import PolicyConfig
from dexagent.controller.dit import ActionDiT, ContextKV, Modulation
from dexagent.controller.encoders import build_encoder, token_count
from dexagent.controller.mask_encoder import TARGET_FEATURES_PER_MASK, MaskEncoder, target_position
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.precision import (
    Precision,
    Stage,
    autocast,
    bf16_units,
    default_precision,
    torch_dtype,
)

Batch = dict[str, torch.Tensor]

# The time feature is tick / TIME_SCALE: 1.0 at 5 s of a 20 Hz attempt (a grasp takes ~6-7 s).
TIME_SCALE = 100.0


class PolicyInputError(ValueError):
    """A batch is missing a key or has a tensor of the wrong shape."""


def _mlp(in_dim: int, width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, width), nn.GELU(), nn.Linear(width, width))


class DexGraspPolicy(nn.Module):
    """The DiT controller's network and its diffusion sampling."""

    def __init__(
        self, config: PolicyConfig, normalizer: Normalizer | None = None, *, load_pretrained: bool = True
    ) -> None:
        """`load_pretrained=False` builds DINOv2 encoders with random weights (a checkpoint fills them).

        Its sizes are the config's `state_dim` and `action_dim` (ConfigError when it has none);
        `normalizer`'s vectors must have those lengths (default: the identity)."""
        super().__init__()
        self.config = config
        self.state_dim, self.action_dim = config.dims
        self._normalizer = Normalizer.identity(self.state_dim, self.action_dim)
        self.set_normalizer(normalizer or self._normalizer)
        size, wrist_size, width = config.image_size, config.wrist_input_size, config.dit.width
        self.head_encoder = build_encoder(config.head_encoder, size, load_pretrained)
        self.wrist_encoder = build_encoder(config.wrist_encoder, wrist_size, load_pretrained)
        head_in = config.head_encoder.width
        if config.use_mask:
            patch = config.head_encoder.patch_size * config.head_encoder.pool
            self.mask_encoder: MaskEncoder | None = MaskEncoder(config.mask_encoder, size, patch)
            head_in += config.mask_encoder.width
        else:
            self.mask_encoder = None
        self.head_proj = _mlp(head_in, width)
        self.wrist_proj = _mlp(config.wrist_encoder.width, width)
        target_dim = 2 * TARGET_FEATURES_PER_MASK if config.use_mask and config.use_target_position else 0
        # Feature order: state, target position (current, first mask), time. New inputs go last, so a
        # checkpoint without them initialises the leading columns (`--init-from`).
        self.state_proj = _mlp(self.state_dim + target_dim + int(config.time_input), width)
        n_obs = token_count(config.head_encoder, size) + token_count(config.wrist_encoder, wrist_size) + 1
        # One learned embedding per observation token: position within a camera and which camera.
        self.obs_pos = nn.Parameter(torch.zeros(1, n_obs, width))
        nn.init.trunc_normal_(self.obs_pos, std=0.02)
        self.dit = ActionDiT(
            config.dit, config.horizon, self.action_dim, global_condition=config.global_condition
        )
        self.noise_scheduler = self._make_scheduler()

    def _make_scheduler(self) -> Any:  # DDIMScheduler; its decorated methods confuse mypy
        return DDIMScheduler(
            num_train_timesteps=self.config.train_timesteps,
            beta_schedule=self.config.beta_schedule,
            clip_sample=True,
            prediction_type="epsilon",
            set_alpha_to_one=True,
        )

    # -- normaliser -------------------------------------------------------------------------
    @property
    def normalizer(self) -> Normalizer:
        return self._normalizer

    def set_normalizer(self, normalizer: Normalizer) -> None:
        sizes = (normalizer.state_dim, normalizer.action_dim)
        if sizes != (self.state_dim, self.action_dim):
            raise ValueError(
                f"normaliser has {sizes[0]}-D states and {sizes[1]}-D actions, the policy "
                f"{self.state_dim}-D states and {self.action_dim}-D actions"
            )
        if normalizer.horizon not in (None, self.config.horizon):
            raise ValueError(
                f"normaliser has ranges for {normalizer.horizon} offsets, horizon is {self.config.horizon}"
            )
        self._normalizer = normalizer

    def pretrained_keys(self) -> set[str]:
        """State-dict keys of frozen encoders that load from their `source`: checkpoints leave them out
        (a frozen DINOv2 is the same for every run; a checkpoint names it instead of copying it)."""
        keys: set[str] = set()
        for name, config in (
            ("head_encoder", self.config.head_encoder),
            ("wrist_encoder", self.config.wrist_encoder),
        ):
            if config.frozen and config.source:
                keys.update(f"{name}.{key}" for key in getattr(self, name).state_dict())
        return keys

    @property
    def device(self) -> torch.device:
        return self.obs_pos.device

    def cast_frozen_encoders(self, precision: Precision) -> None:
        """Hold the frozen DINOv2 encoders' weights in `precision`: bf16 weights run faster than
        autocast on bf16 units; their outputs stay float32, and trainable parts keep fp32 weights.
        The cast rounds: back in fp32 the weights stay bf16-rounded until reloaded from their source."""
        for name, config in (
            ("head_encoder", self.config.head_encoder),
            ("wrist_encoder", self.config.wrist_encoder),
        ):
            if config.frozen and config.kind == "dinov2":
                getattr(self, name).model.to(torch_dtype(precision))

    def frozen_encoder_precision(self) -> Precision:
        """The precision the frozen DINOv2 encoders' weights are held in (`cast_frozen_encoders`)."""
        models = [self.head_encoder, self.wrist_encoder]
        bf16 = any(
            getattr(model, "model", None) is not None and model.model.dtype == torch.bfloat16
            for model in models
        )
        return "bf16" if bf16 else "fp32"

    def default_precision(self, stage: Stage) -> Precision:
        """The measured default precision of `stage` for this config on this policy's device."""
        return default_precision(stage, self.config, self.device.type, bf16_units(self.device) is not None)

    # -- observation encoding ---------------------------------------------------------------
    def encode_frozen(self, head_rgb: torch.Tensor, wrist_rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """Outputs of the frozen encoders only, for feature caching: head/wrist_features (B, N, D)."""
        features: dict[str, torch.Tensor] = {}
        # no_grad, not inference_mode: the features may feed a training step directly.
        with torch.no_grad():
            if self.config.head_encoder.frozen:
                features["head_features"] = self.head_encoder(head_rgb.to(self.device))
            if self.config.wrist_encoder.frozen:
                features["wrist_features"] = self.wrist_encoder(wrist_rgb.to(self.device))
        return features

    def _camera_features(self, batch: Batch, camera: str) -> torch.Tensor:
        cached = batch.get(f"{camera}_features")
        if cached is not None:
            return cached
        rgb = batch.get(f"{camera}_rgb")
        if rgb is None:
            raise PolicyInputError(f"batch needs '{camera}_rgb' (B,3,S,S) or '{camera}_features' (B,N,D)")
        size = self.config.input_size(camera)
        if rgb.ndim != 4 or tuple(rgb.shape[1:]) != (3, size, size):
            raise PolicyInputError(
                f"batch['{camera}_rgb'] must be (B,3,{size},{size}), got {tuple(rgb.shape)}"
            )
        encoder = self.head_encoder if camera == "head" else self.wrist_encoder
        frozen = getattr(self.config, f"{camera}_encoder").frozen
        if frozen:
            with torch.no_grad():
                return encoder(rgb)
        return encoder(rgb)

    def encode_observation(self, batch: Batch) -> torch.Tensor:
        """The observation token sequence (B, T, W): head(+mask) tokens, wrist tokens, state token."""
        batch = {k: v.to(self.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        state = batch.get("state")
        if state is None or state.ndim != 2 or state.shape[1] != self.state_dim:
            shape = None if state is None else tuple(state.shape)
            raise PolicyInputError(f"batch['state'] must be (B,{self.state_dim}), got {shape}")
        head = self._camera_features(batch, "head")
        state_in = [self.normalizer.normalize_state(state)]
        if self.mask_encoder is not None:
            masks = []
            for key in ("head_mask", "first_mask"):
                mask = batch.get(key)
                size = self.config.image_size
                if mask is None or tuple(mask.shape[1:]) != (1, size, size):
                    shape = None if mask is None else tuple(mask.shape)
                    raise PolicyInputError(f"batch['{key}'] must be (B,1,{size},{size}), got {shape}")
                masks.append(mask)
            head = torch.cat([head, self.mask_encoder(torch.cat(masks, dim=1))], dim=-1)
            if self.config.use_target_position:
                state_in += [target_position(masks[0]), target_position(masks[1])]
        if self.config.time_input:
            tick = batch.get("tick")
            if tick is None or tick.shape != (len(state),):
                shape = None if tick is None else tuple(tick.shape)
                raise PolicyInputError(f"batch['tick'] must be ({len(state)},) with time_input, got {shape}")
            state_in.append(tick.to(state)[:, None] / TIME_SCALE)
        tokens = [
            self.head_proj(head),
            self.wrist_proj(self._camera_features(batch, "wrist")),
            self.state_proj(torch.cat(state_in, dim=-1))[:, None],
        ]
        return torch.cat(tokens, dim=1) + self.obs_pos

    # -- training ---------------------------------------------------------------------------
    def compute_loss(self, batch: Batch, noise_draws: int = 1) -> torch.Tensor:
        """Epsilon-prediction MSE at uniformly sampled diffusion timesteps (scalar).

        `noise_draws` K: each observation is encoded once and denoised at K (timestep, noise) draws,
        so the encoders' cost (forward and backward) is paid once for K DiT losses.
        """
        action = batch.get("action")
        expected = (self.config.horizon, self.action_dim)
        if action is None or action.ndim != 3 or tuple(action.shape[1:]) != expected:
            shape = None if action is None else tuple(action.shape)
            raise PolicyInputError(f"batch['action'] must be (B,{expected[0]},{expected[1]}), got {shape}")
        obs = self.encode_observation(batch)  # validates the batch, state included
        # Clipped as the sampler clips: quantile ranges leave a few targets beyond [-1, 1].
        target = self.normalizer.normalize_action(self._relative(action.to(self.device), batch)).clamp(-1, 1)
        kv, cond = self.dit.context_kv(obs), self.dit.global_cond(obs)
        if noise_draws > 1:  # draw k of sample b is row k * B + b
            target = target.repeat(noise_draws, 1, 1)
            kv = [(key.repeat(noise_draws, 1, 1, 1), value.repeat(noise_draws, 1, 1, 1)) for key, value in kv]
            cond = None if cond is None else cond.repeat(noise_draws, 1)
        noise = torch.randn_like(target)
        timesteps = torch.randint(0, self.config.train_timesteps, (len(target),), device=self.device)
        noisy = self.noise_scheduler.add_noise(target, noise, timesteps)
        predicted = self.dit(noisy, timesteps, kv, cond=cond)
        return F.mse_loss(predicted.float(), noise)

    # -- sampling ---------------------------------------------------------------------------
    def _initial_noise(self, batch_size: int, generator: torch.Generator | None) -> torch.Tensor:
        shape = (batch_size, self.config.horizon, self.action_dim)
        # Draw on the generator's device, then move: identical noise on CPU and GPU for one seed.
        gen_device = generator.device if generator is not None else torch.device("cpu")
        return torch.randn(shape, generator=generator, device=gen_device).to(self.device)

    def _denoise(self, batch: Batch, generator: torch.Generator | None, reuse_context: bool) -> torch.Tensor:
        if "state" not in batch:
            raise PolicyInputError(f"batch['state'] must be (B,{self.state_dim}), got None")
        scheduler = self._make_scheduler()  # a fresh one: set_timesteps mutates it, inference may be threaded
        scheduler.set_timesteps(self.config.inference_steps, device=self.device)
        n_rows, draws = len(batch["state"]), self.config.inference_samples
        batch_size = n_rows * draws  # row r's k-th draw is row r * draws + k
        sample = self._initial_noise(batch_size, generator)
        kv: ContextKV | None = None
        all_mods: Modulation | None = None
        steps = len(scheduler.timesteps)
        state = batch["state"]  # one row per observation: the delta mode adds it back to the mean
        if draws > 1:
            batch = {key: value.repeat_interleave(draws, 0) for key, value in batch.items()}
        if reuse_context:
            obs = self.encode_observation(batch)
            kv = self.dit.context_kv(obs)
            cond = self.dit.global_cond(obs)
            # One adaLN pass for every (step, sample) row: step i owns rows i*B .. (i+1)*B-1.
            all_timesteps = scheduler.timesteps.to(self.device).repeat_interleave(batch_size)
            all_mods = self.dit.modulation(all_timesteps, None if cond is None else cond.repeat(steps, 1))
        for i, t in enumerate(scheduler.timesteps):
            timesteps = t.expand(batch_size).to(self.device)
            if kv is not None and all_mods is not None:
                rows = slice(i * batch_size, (i + 1) * batch_size)
                epsilon = self.dit(sample, timesteps, kv, ([m[rows] for m in all_mods[0]], all_mods[1][rows]))
            else:  # the naive baseline: everything from scratch at every step
                obs = self.encode_observation(batch)
                kv_now, cond_now = self.dit.context_kv(obs), self.dit.global_cond(obs)
                epsilon = self.dit(sample, timesteps, kv_now, cond=cond_now)
            sample = scheduler.step(epsilon.float(), t, sample).prev_sample
        # Averaged in normalised units: the unnormalisation is affine, so it is the same mean.
        mean = sample.float().view(n_rows, draws, *sample.shape[1:]).mean(dim=1)
        return self._absolute(self.normalizer.unnormalize_action(mean), {"state": state})

    def _relative(self, action: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Raw actions (B, H, A) -> what the network models: themselves or minus the state."""
        if self.config.action_mode == "absolute":
            return action
        return action - batch["state"].to(action)[:, None]

    def _absolute(self, action: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Inverse of `_relative`."""
        if self.config.action_mode == "absolute":
            return action
        return action + batch["state"].to(action)[:, None]

    @contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """Eval mode for one sampling call. A policy already in eval mode (the controller's) is
        left alone: walking all 161 submodules twice costs ~1.6 ms, ~4% of a `sim` chunk on CPU."""
        if not self.training:
            yield
            return
        self.eval()
        try:
            yield
        finally:
            self.train()

    def predict_chunk(
        self, batch: Batch, generator: torch.Generator | None = None, precision: Precision = "fp32"
    ) -> torch.Tensor:
        """Sample an action chunk (B, H, A) in raw units.

        Observation tokens, every block's cross-attention K/V and the adaLN parameters of all
        DDIM timesteps are computed once and reused by all denoising steps. In bf16 the network
        runs under bf16 autocast (frozen encoders at the dtype `cast_frozen_encoders` gave them),
        the sampler's arithmetic in fp32. The controller passes the measured default
        (`default_precision("inference")`, controller/precision.py).
        """
        with self._eval_mode(), torch.inference_mode(), autocast(precision, self.device):
            return self._denoise(batch, generator, reuse_context=True)

    def predict_chunk_naive(self, batch: Batch, generator: torch.Generator | None = None) -> torch.Tensor:
        """The eager baseline: re-encodes the observation at every denoising step (benchmarks only)."""
        with self._eval_mode(), torch.no_grad():
            return self._denoise(batch, generator, reuse_context=False)

    # -- introspection ----------------------------------------------------------------------
    def parameter_counts(self) -> dict[str, tuple[int, int]]:
        """(trainable, frozen) parameter counts per part of the network."""
        parts: dict[str, list[nn.Module | nn.Parameter]] = {
            "head encoder": [self.head_encoder],
            "wrist encoder": [self.wrist_encoder],
            "mask encoder": [self.mask_encoder] if self.mask_encoder is not None else [],
            "projections": [self.head_proj, self.wrist_proj, self.state_proj, self.obs_pos],
            "DiT": [self.dit],
        }
        counts: dict[str, tuple[int, int]] = {}
        for name, items in parts.items():
            params = [
                p for item in items for p in ([item] if isinstance(item, nn.Parameter) else item.parameters())
            ]
            trainable = sum(p.numel() for p in params if p.requires_grad)
            frozen = sum(p.numel() for p in params if not p.requires_grad)
            counts[name] = (trainable, frozen)
        return counts
