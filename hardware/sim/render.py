"""Fast offscreen rendering of the sim's cameras and the head camera's object segmentation.

Shadows, reflections and anti-aliasing are off by default: on a CPU (Mesa EGL) they
cost ~6x (about 3 two-camera pairs/s at 224 px with them, ~20 without).

Each camera renders at its own size (a frozen DINOv2 head wants 224 px, a wrist CNN 96 px): one
MuJoCo renderer, and so one GL context, per distinct size.
"""

from __future__ import annotations

from collections.abc import Mapping

import mujoco  # its GL backend: MUJOCO_GL, set in hardware/sim/__init__.py
import numpy as np


class SceneRenderer:
    """Renders RGB images and per-object segmentation from named cameras of one model.

    `geom_to_object` (int32[ngeom]) maps each geom id to its object's index or -1. Every camera
    renders square `image_size` images but those named in `camera_sizes` (camera -> pixels).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        geom_to_object: np.ndarray,
        *,
        image_size: int,
        camera_sizes: Mapping[str, int] | None = None,
        shadows: bool = False,
        reflections: bool = False,
    ) -> None:
        self.image_size = image_size
        self.camera_sizes = dict(camera_sizes or {})
        sizes = sorted({image_size, *self.camera_sizes.values()})
        self._renderers = {size: mujoco.Renderer(model, size, size) for size in sizes}
        self._option = mujoco.MjvOption()
        self._shadows = shadows
        self._reflections = reflections
        self._segmenting = dict.fromkeys(sizes, False)
        # Lookup from a rendered geom id (+1 so that "no geom" -1 maps to index 0) to object index.
        self._lookup = np.concatenate([[-1], np.asarray(geom_to_object, dtype=np.int32)]).astype(np.int32)

    def size(self, camera: str) -> int:
        """The side of `camera`'s square images, pixels."""
        return self.camera_sizes.get(camera, self.image_size)

    def _scene_of(self, data: mujoco.MjData, camera: str, segmentation: bool) -> mujoco.Renderer:
        """`camera`'s renderer with the scene of `data` in it, set up for colour or segmentation."""
        size = self.size(camera)
        renderer = self._renderers[size]
        renderer.update_scene(data, camera=camera, scene_option=self._option)
        if segmentation != self._segmenting[size]:
            if segmentation:
                renderer.enable_segmentation_rendering()
            else:
                renderer.disable_segmentation_rendering()
            self._segmenting[size] = segmentation
        flags = renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self._shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = self._reflections
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
        return renderer

    def rgb(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """uint8[S, S, 3] image from `camera` (S: `size(camera)`)."""
        return self._scene_of(data, camera, segmentation=False).render().copy()

    def geoms(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """int32[S, S]: the geom id seen at each pixel of `camera`, -1 where no geom is."""
        ids = self._scene_of(data, camera, segmentation=True).render()  # int32[S, S, 2]: id and type
        # int(): comparing an array with the pybind enum itself goes element by element in Python.
        return np.where(ids[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM), ids[..., 0], -1)

    def objects(self, geoms: np.ndarray) -> np.ndarray:
        """int32[H, W]: the object index of each pixel of a `geoms` image, -1 for robot/table/background."""
        return self._lookup[geoms + 1]

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
