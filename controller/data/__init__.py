"""Demonstrations: the zarr store (DexGraspVLA / diffusion-policy layout) and scripted collection in sim."""

from dexagent.controller.data.store import (
    FRAME_KEYS,
    DemoStore,
    EpisodeFrames,
    EpisodeMetadata,
    StoreError,
)

__all__ = ["FRAME_KEYS", "DemoStore", "EpisodeFrames", "EpisodeMetadata", "StoreError"]
