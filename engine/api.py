"""The plugin API: everything a dataset, backbone or method plugin may import from Pretext.

Built-in plugins (``plugins/``) import project code from this module only, exactly as a
third-party package or a ``<home>/plugins/*.py`` file does; an import-linter contract in
``pyproject.toml`` keeps it so. Anything not listed in ``__all__`` is internal and may change.

- declaring: ``Param`` (typed schema entries), ``ParamError`` / ``DataError`` (one-sentence
  refusals), ``register_dataset`` / ``register_backbone`` / ``register_method``;
- bases: ``DatasetPlugin`` + ``Split`` (streamed as ``SplitSpec`` + ``Chunk``s),
  ``ImageFileDataset`` (splits decoded from lists of image files), ``ImageArrayDataset``
  (splits read as arrays of images from a few files), ``BackboneBase``
  (``ClipBackboneBase`` for clips, ``AudioBackboneBase`` for waveforms),
  ``MethodPlugin``, ``TwoViewMethod``, ``ProjectedPairMethod``, ``FrameTupleMethod``; ``Capability`` / ``SampleKind`` for
  what backbones offer, methods require and datasets hold;
- building blocks: view recipes and augmentations, heads, multi-crop, momentum encoders,
  feature queues, metrics, Lab colour, patches, Sobel, image ids, stage shapes, the
  transformer block, distributed gathers; for clips: frame picking, temporally consistent
  augmentation, motion energy, tuple previews; for sound: ``AVBatch`` (clips with their
  waveforms), log-mel spectrograms on the device, audio-visual pairing helpers; for datasets:
  resizing, fingerprints, stratified splits, image-file decoding (one file, or a list in
  threaded chunks), folder listings, the restricted unpickler.
"""
from __future__ import annotations

from engine.capabilities import Capability, SampleKind
from engine.data.audio_file import read_sound, sound_windows
from engine.data.av_batch import AVBatch
from engine.data.chunks import Chunk, SplitSpec, chunk_length
from engine.data.class_folder_source import ClassFolderSource, list_class_items
from engine.data.clip_audio_splits import ClipAudioSplits
from engine.data.dataset import SPLITS, DataError, DatasetPlugin, Split, resize_images
from engine.data.fingerprint import fingerprint
from engine.data.image_array_dataset import ImageArrayDataset
from engine.data.image_chunks import any_readable, decode_chunks
from engine.data.image_file import EXTENSIONS, decode_square
from engine.data.image_file_dataset import ImageFileDataset
from engine.data.image_listing import (
    Listing,
    class_folders,
    image_files,
    is_image,
    list_folder,
)
from engine.data.restricted_pickle import ForbiddenPickle, load_restricted
from engine.data.stratified_split import check_class_folder, held_out_part, hold_out_params, stratified_split
from engine.models.audio_backbone import AudioBackboneBase
from engine.models.backbone import BackboneBase
from engine.models.clip_backbone import ClipBackboneBase
from engine.models.conv_blocks import vgg_block
from engine.models.transformer import Attention, Block, init_transformer_weights
from engine.params import Param, ParamError
from engine.registry import (
    create_backbone,
    create_method,
    register_backbone,
    register_dataset,
    register_method,
)
from engine.registry import get as get_entry
from engine.ssl.audio_visual import (
    circular_shift,
    frame_at,
    need_audio,
    other_clip,
    random_gain,
    spectrogram_image,
    window_starts,
    windows,
)
from engine.ssl.augment import (
    ViewRecipe,
    color_jitter,
    denormalize,
    gaussian_blur,
    normalize,
    random_grayscale,
    recipe_from,
    resized_crop,
    solarize,
    to_float,
    view_params,
)
from engine.ssl.av_method import AV_PARAMS, AudioVisualMethod
from engine.ssl.classification import classification_loss
from engine.ssl.clips import (
    as_single_frames,
    augment_clips,
    gather_frames,
    motion_energy,
    need_frames,
    sorted_frames,
    tile_frames,
)
from engine.ssl.feature_queue import FeatureQueue
from engine.ssl.frame_tuples import FrameTupleMethod, spaced_frames
from engine.ssl.heads import mlp_head
from engine.ssl.image_ids import image_ids
from engine.ssl.instance_ids import InstanceIds
from engine.ssl.lab_color import lab_to_rgb, rgb_to_lab
from engine.ssl.log_mel import log_mel, mel_filterbank
from engine.ssl.method import MethodPlugin
from engine.ssl.metrics import contrastive_accuracy, pair_chance, pair_retrieval_accuracy, ranked_first
from engine.ssl.momentum import MomentumPair, ema_update, frozen_copy, momentum_at, momentum_params
from engine.ssl.multicrop import MultiCrop, multicrop_from, multicrop_params, swapped_cross_entropy
from engine.ssl.patch_task import PatchTaskMethod
from engine.ssl.patches import crop_patches, grid_origins, mosaic, standardize, to_unit_range, upsample_to
from engine.ssl.shuffle_bn import shuffled_forward
from engine.ssl.sobel import sobel
from engine.ssl.stage_shapes import stage_shapes
from engine.ssl.supervised_reference import SupervisedMethod
from engine.ssl.two_view import ProjectedPairMethod, TwoViewMethod
from engine.training.distributed import concat_all_gather, gather_with_grad, rank_rows

__all__ = [
    # declaring a plugin
    "Param", "ParamError", "DataError", "register_dataset", "register_backbone", "register_method",
    "get_entry", "create_method", "create_backbone",
    # bases and declared capabilities
    "DatasetPlugin", "Split", "SPLITS", "SplitSpec", "Chunk", "BackboneBase", "ClipBackboneBase", "MethodPlugin", "SupervisedMethod", "PatchTaskMethod",
    "TwoViewMethod", "ProjectedPairMethod", "FrameTupleMethod", "Capability", "SampleKind",
    # dataset building blocks
    "chunk_length", "resize_images", "fingerprint", "stratified_split", "held_out_part", "hold_out_params", "check_class_folder", "ClassFolderSource", "list_class_items", "EXTENSIONS", "decode_square",
    "ForbiddenPickle", "load_restricted", "ImageFileDataset", "ImageArrayDataset", "Listing", "list_folder", "class_folders",
    "image_files", "is_image", "decode_chunks", "any_readable", "ClipAudioSplits",
    # views and augmentations
    "ViewRecipe", "view_params", "recipe_from", "to_float", "normalize", "denormalize", "resized_crop",
    "color_jitter", "random_grayscale", "gaussian_blur", "solarize",
    "MultiCrop", "multicrop_params", "multicrop_from", "swapped_cross_entropy",
    # networks, heads, encoders, queues
    "Attention", "Block", "init_transformer_weights", "mlp_head", "vgg_block",
    "MomentumPair", "momentum_params", "shuffled_forward", "momentum_at", "ema_update", "frozen_copy", "FeatureQueue",
    "stage_shapes", "gather_with_grad", "concat_all_gather", "rank_rows",
    # pretext-task helpers
    "classification_loss", "contrastive_accuracy", "pair_retrieval_accuracy", "ranked_first", "pair_chance", "image_ids", "InstanceIds", "rgb_to_lab", "lab_to_rgb", "sobel",
    "grid_origins", "crop_patches", "standardize", "upsample_to", "to_unit_range", "mosaic",
    # clips
    "need_frames", "sorted_frames", "gather_frames", "motion_energy", "augment_clips", "as_single_frames",
    "tile_frames", "spaced_frames",
    # sound
    "AVBatch", "AudioBackboneBase", "log_mel", "mel_filterbank", "AudioVisualMethod", "AV_PARAMS",
    "need_audio", "other_clip", "windows", "window_starts", "frame_at", "circular_shift", "random_gain",
    "spectrogram_image", "read_sound", "sound_windows",
]
