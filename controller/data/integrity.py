"""Whether every chunk of a demonstration store decodes: a store copied or synced half way has
chunk files cut short, and nothing else notices until training reaches them."""

from __future__ import annotations

from dexagent.controller.data.store import FRAME_KEYS, DemoStore, StoreError, decoded


def verify_store(store: DemoStore) -> int:
    """Read every committed chunk of every array once; `StoreError` naming the first that does not
    decode (its array and frames). Returns the number of chunks read."""
    chunks = 0
    frames = store.num_frames
    for key in FRAME_KEYS:
        step = int(store[key].chunks[0])
        for start in range(0, frames, step):
            stop = min(start + step, frames)
            try:
                decoded(store.path, store.zarr_root, f"data/{key}", slice(start, stop))
            except StoreError as error:
                raise StoreError(f"{error} (frames {start}-{stop - 1})") from None
            chunks += 1
    for index in range(store.num_episodes):  # the metadata rows: few and small
        store.episode_metadata(index)
    return chunks
