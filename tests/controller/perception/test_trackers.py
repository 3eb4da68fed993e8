"""The sam / sam+cutie / sam2 backends: clear messages when a package or weights are missing, the
streaming SAM2 logic on sim frames, and the real SAM and SAM2 classes (random weights) when installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.perception import TRACKERS, TrackerConfigError, make_tracker, tracker_factory
from dexagent.controller.perception.sam2_tracker import Sam2StreamTracker, grown
from dexagent.controller.perception.tracking_eval import TrackedEpisode, grasp_frames, mask_iou, track_ious
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import Box

HAS_SAM2 = importlib.util.find_spec("sam2") is not None
HAS_SAM = importlib.util.find_spec("segment_anything") is not None
HAS_CUTIE = importlib.util.find_spec("cutie") is not None  # rf-cutie


@pytest.fixture(scope="module")
def episode() -> TrackedEpisode:
    return grasp_frames(seed=3, image_size=64, seconds=6.0, every=3)


def test_all_three_trackers_are_registered_with_their_options() -> None:
    assert {"oracle", "sam+cutie", "sam2"} <= set(TRACKERS.names())
    with pytest.raises(TrackerConfigError, match="sam2 tracker option 'checkpoint': Field required"):
        tracker_factory("sam2")
    with pytest.raises(TrackerConfigError, match="unknown sam2 tracker option 'ckpt'"):
        tracker_factory("sam2", checkpoint="x.pt", ckpt="x.pt")
    with pytest.raises(TrackerConfigError, match="'cutie_weights': Field required"):
        tracker_factory("sam+cutie", sam_checkpoint="sam.pth")


def test_a_missing_package_or_checkpoint_says_how_to_install(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pt")
    expected = "SAM2 checkpoint .* not found" if HAS_SAM2 else "needs SAM2 .*SAM2_BUILD_CUDA=0 pip install"
    with pytest.raises(TrackerConfigError, match=expected):
        make_tracker("sam2", checkpoint=missing)
    expected = (
        "SAM checkpoint .* not found" if HAS_SAM else "needs segment-anything .*dexagent\\[perception\\]"
    )
    with pytest.raises(TrackerConfigError, match=expected):
        make_tracker("sam+cutie", sam_checkpoint=missing, cutie_weights=missing)


class _GroundTruthPredictor:
    """Stands in for SAM2's image predictor: returns the sim object that best fills the prompt box.

    It sees only the image it was given (through the sim's segmentation of that image), so the
    tracker's own logic - re-prompting from the last box, riding out occlusion - is what is tested.
    """

    def __init__(self, episode: TrackedEpisode) -> None:
        self.segmentations = {id(f.head_rgb): f.head_segmentation for f in episode.frames}
        self.prompts: list[Box] = []

    def set_image(self, image: np.ndarray) -> None:
        self.segmentation = self.segmentations[id(image)]

    def predict(self, box: np.ndarray, mask_input: object, multimask_output: bool) -> tuple:
        self.prompts.append(Box(*box))
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        inside = self.segmentation[y1:y2, x1:x2]
        ids, counts = np.unique(inside[inside >= 0], return_counts=True)
        mask = (
            self.segmentation == ids[np.argmax(counts)]
            if len(ids)
            else np.zeros_like(self.segmentation, bool)
        )
        score = 0.9 if mask.sum() >= 4 else 0.1
        return mask[None].astype(np.float32), np.array([score]), np.zeros((1, 256, 256), np.float32)


def test_the_streaming_tracker_follows_the_target_through_the_grasp(episode: TrackedEpisode) -> None:
    predictor = _GroundTruthPredictor(episode)
    ious = track_ious(Sam2StreamTracker(predictor), episode)
    scored = [iou for iou in ious if iou is not None]
    assert ious[0] == 1.0 and np.mean(scored) > 0.8
    # each prompt after the first is the previous mask's box grown by the margin
    assert all(p.x1 >= 0 and p.y1 >= 0 and p.x2 <= 64 and p.y2 <= 64 for p in predictor.prompts)
    assert track_ious(OracleTracker(), episode)[0] == 1.0


def test_a_hidden_target_gives_an_empty_mask_and_the_last_box_is_kept(episode: TrackedEpisode) -> None:
    predictor = _GroundTruthPredictor(episode)
    tracker = Sam2StreamTracker(predictor)
    first = episode.frames[0]
    tracker.start(first, episode.start_box)
    box = tracker.box
    hidden = type(first)(
        first.head_rgb.copy(),
        first.wrist_rgb,
        first.state,
        first.t,
        np.full_like(first.head_segmentation, -1),
    )
    predictor.segmentations[id(hidden.head_rgb)] = hidden.head_segmentation  # the target is hidden
    assert not tracker.step(hidden).any() and tracker.box == box and tracker.lost_frames == 1
    assert tracker.step(first).any() and tracker.lost_frames == 0  # found again where it was
    assert grown(Box(10, 10, 20, 20), 0.5, 24, 24).as_tuple() == (5.0, 5.0, 24.0, 24.0)
    assert mask_iou(np.zeros((4, 4), bool), np.zeros((4, 4), bool)) is None


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SAM2, reason="the perception extra (SAM2) is not installed")
def test_sam2_tiny_with_random_weights_runs_the_stream_on_sim_frames(episode: TrackedEpisode) -> None:
    from dexagent.controller.perception.sam2_tracker import load_sam2

    tracker = Sam2StreamTracker(load_sam2("tiny", None, "cpu"))
    short = TrackedEpisode(episode.frames[:2], episode.target, episode.start_box)  # ~35 s per 1024 px frame
    ious = track_ious(tracker, short)
    assert len(ious) == 2 and all(iou is None or 0.0 <= iou <= 1.0 for iou in ious)


def _small_random_sam() -> object:
    """segment-anything's real `Sam` classes at a tiny size (64 px input), random weights."""
    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    torch.manual_seed(0)
    size, patch, dim = 64, 16, 32
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=size, patch_size=patch, embed_dim=dim, depth=1, num_heads=2, out_chans=dim
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=dim,
            image_embedding_size=(size // patch, size // patch),
            input_image_size=(size, size),
            mask_in_chans=4,
        ),
        mask_decoder=MaskDecoder(
            transformer_dim=dim,
            transformer=TwoWayTransformer(depth=1, embedding_dim=dim, mlp_dim=64, num_heads=2),
            num_multimask_outputs=3,
            iou_head_hidden_dim=32,
        ),
    ).eval()


@pytest.mark.skipif(not HAS_SAM, reason="the perception extra (segment-anything) is not installed")
def test_sam_box_to_mask_with_a_small_random_model(episode: TrackedEpisode) -> None:
    from dexagent.controller.perception.sam import SamSegmenter

    sam = _small_random_sam()
    frame = episode.frames[0]
    mask = SamSegmenter(sam).segment(frame.head_rgb, episode.start_box)  # type: ignore[arg-type]
    assert mask.shape == frame.head_rgb.shape[:2] and mask.dtype == bool


@pytest.mark.slow
@pytest.mark.skipif(
    not (HAS_SAM and HAS_CUTIE), reason="the perception extra (SAM, rf-cutie) is not installed"
)
def test_sam_then_the_real_cutie_network_with_random_weights_tracks_sim_frames(tmp_path: Path) -> None:
    """Box -> SAM mask -> Cutie's memory over sim frames, loaded by `load_cutie` from a weights file
    (the path real weights take), offline: the ImageNet file Cutie's constructor reads lies beside.
    128 px frames: Cutie reads its top 30 memory tokens, more than a 64 px frame's 16 patches."""
    import torch
    from cutie.model.cutie import CUTIE
    from cutie.model.utils.resnet import resnet18
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    from dexagent.controller.perception.cutie_tracker import BACKBONE_FILES, SamCutieTracker, load_cutie
    from dexagent.controller.perception.sam import SamSegmenter

    torch.manual_seed(0)
    weights = tmp_path / "cutie-small-random.pth"
    with pytest.raises(TrackerConfigError, match="resnet18-5c106cde.pth before cutie-small-random.pth"):
        torch.save({}, weights)
        load_cutie(weights, "cpu", "small")  # offline, no ImageNet file: says where it goes
    (backbone,) = BACKBONE_FILES["small"]
    torch.save(resnet18(pretrained=False).state_dict(), tmp_path / backbone)
    with pytest.raises(TrackerConfigError, match="is not a Cutie small checkpoint"):
        load_cutie(weights, "cpu", "small")  # Cutie itself would load an empty file without a word

    # A checkpoint of the real small network, random weights, written as the released files are.
    GlobalHydra.instance().clear()
    with initialize_config_module(version_base="1.3.2", config_module="cutie.config"):
        config = compose(config_name="eval_config", overrides=["model=small"])
    with open_dict(config):
        config.model.resnet_model_path = str(tmp_path)
    torch.save(CUTIE(config).state_dict(), weights)

    processor = load_cutie(weights, "cpu", "small")
    tracker = SamCutieTracker(SamSegmenter(_small_random_sam()), processor)  # type: ignore[arg-type]
    episode = grasp_frames(seed=3, image_size=128, seconds=1.0, every=5)
    short = TrackedEpisode(episode.frames[:4], episode.target, episode.start_box)
    ious = track_ious(tracker, short)
    assert len(ious) == 4 and all(iou is None or 0.0 <= iou <= 1.0 for iou in ious)
    masks = [tracker.step(frame) for frame in short.frames[1:]]
    assert all(m.shape == short.frames[0].head_rgb.shape[:2] and m.dtype == bool for m in masks)
