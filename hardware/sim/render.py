"""Fast offscreen rendering of the sim's cameras and the head camera's object segmentation.

Shadows, reflections and anti-aliasing are off by default: on a CPU (Mesa EGL) they
cost ~6x (about 3 two-camera pairs/s at 224 px with them, ~20 without).
"""

from __future__ import annotations

import mujoco  # its GL backend: MUJOCO_GL, set in hardware/sim/__init__.py
import numpy as np


class SceneRenderer:
    """Renders RGB images and per-object segmentation from named cameras of one model.

    `geom_to_object` (int32[ngeom]) maps each geom id to its object's index or -1.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        geom_to_object: np.ndarray,
        *,
        image_size: int,
        shadows: bool = False,
        reflections: bool = False,
    ) -> None:
        self.image_size = image_size
        self._renderer = mujoco.Renderer(model, image_size, image_size)
        self._option = mujoco.MjvOption()
        self._shadows = shadows
        self._reflections = reflections
        self._segmenting = False
        # Lookup from a rendered geom id (+1 so that "no geom" -1 maps to index 0) to object index.
        self._lookup = np.concatenate([[-1], np.asarray(geom_to_object, dtype=np.int32)]).astype(np.int32)

    def _configure(self, segmentation: bool) -> None:
        if segmentation != self._segmenting:
            if segmentation:
                self._renderer.enable_segmentation_rendering()
            else:
                self._renderer.disable_segmentation_rendering()
            self._segmenting = segmentation
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self._shadows
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = self._reflections
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False

    def rgb(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """uint8[H, W, 3] image from `camera`."""
        self._renderer.update_scene(data, camera=camera, scene_option=self._option)
        self._configure(segmentation=False)
        return self._renderer.render().copy()

    def geoms(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        """int32[H, W]: the geom id seen at each pixel of `camera`, -1 where no geom is."""
        self._renderer.update_scene(data, camera=camera, scene_option=self._option)
        self._configure(segmentation=True)
        ids = self._renderer.render()  # int32[H, W, 2]: object id and object type per pixel
        # int(): comparing an array with the pybind enum itself goes element by element in Python.
        return np.where(ids[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM), ids[..., 0], -1)

    def objects(self, geoms: np.ndarray) -> np.ndarray:
        """int32[H, W]: the object index of each pixel of a `geoms` image, -1 for robot/table/background."""
        return self._lookup[geoms + 1]

    def close(self) -> None:
        self._renderer.close()
