"""Datasets read item by item from ``root/<class>/<item>`` (video_folder, sound_folder and the
video folder with sound): one class per sub-folder, a seeded stratified hold-out of the items
as the test split, the rest as train and as ``unlabeled`` (so pre-training never sees a test
item), unreadable items skipped and counted by the subclass's ``iter_split``.

A subclass names its items (``noun``, ``described``), finds them in one class folder
(``items_in``), reads one (``read``, None when it cannot be read; ``read_records`` when an
item gives more than its records, e.g. a soundtrack) and says what a record is
(``record_shape``, ``record_dtype``; ``records_per_item``, e.g. clips per video;
``audio_samples``). Splits are streamed in chunks of whole items.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.capabilities import SampleKind
from engine.data.chunks import Chunk, SplitSpec, chunk_length
from engine.data.dataset import DatasetPlugin
from engine.data.errors import DataError
from engine.data.fingerprint import fingerprint
from engine.data.stratified_split import check_class_folder, held_out_part

ClassListing = tuple[list[str], np.ndarray, list[str]]


def list_class_items(root: Path, items_in, described: str) -> ClassListing:
    """(items, (n,) labels, class names) of ``root/<class>/...`` with ``items_in(class_dir) ->
    sorted paths``; classes without items are left out. DataError, naming ``described``
    (e.g. "sound files (.wav, .flac)"), when root is not a folder or holds no item."""
    if not root.is_dir():
        raise DataError(f"root {root} is not a folder or does not exist")
    classes, items, labels = [], [], []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = items_in(d)
        if found:
            labels += [len(classes)] * len(found)
            classes.append(d.name)
            items += found
    if not items:
        raise DataError(f"root {root} has no class sub-folders of {described}")
    return items, np.asarray(labels, np.int64), classes


class ClassFolderSource(DatasetPlugin):
    noun = "items"  # plural, as a sentence names them: "videos", "sound files"
    described = "items"  # what the refusal of an empty root says it looked for
    record_dtype = np.uint8

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._listing: ClassListing | None = None

    def items_in(self, class_dir: Path) -> list[str]:
        raise NotImplementedError

    def read(self, item: str):
        raise NotImplementedError

    def record_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def read_records(self, item: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(records (records_per_item, *record_shape), sound (records_per_item, L) int16 or
        None) of one item, None when it cannot be read. Default: ``read`` gives the records."""
        records = self.read(item)
        return None if records is None else (records, None)

    def records_per_item(self) -> int:
        return 1

    def audio_samples(self) -> int:
        """L of an ``audio`` or clip+audio record's (L,) waveform, 0 without sound."""
        return 0

    def split_spec(self, name):
        items, _ = self.split_items(name)
        return SplitSpec(len(items) * self.records_per_item(), self.record_shape(), tuple(self.listing()[2]),
                         labeled=name != "unlabeled", audio_samples=self.audio_samples())

    def listing(self) -> ClassListing:
        if self._listing is None:
            self._listing = list_class_items(self.root_path(), self.items_in, self.described)
        return self._listing

    @property
    def version(self) -> str:
        return fingerprint(self.listing()[0])

    def check(self):
        items, labels, _ = self.listing()
        check_class_folder(items, labels, lambda item: self.read(item) is not None, self.noun)

    def split_items(self, name: str) -> tuple[list[str], np.ndarray]:
        """The items split ``name`` is read from and their (n,) labels (unlabeled: the train items)."""
        items, labels, _ = self.listing()
        return held_out_part(items, labels, name, self.params["test_fraction"], self.params["seed"],
                             f"root has too few {self.noun}")

    def iter_split(self, name, start=0):
        """Chunks of whole items' records from record ``start`` on; an unreadable item counts
        its ``records_per_item`` records as consumed and skipped."""
        items, labels = self.split_items(name)
        per = self.records_per_item()
        record_bytes = np.dtype(self.record_dtype).itemsize * int(np.prod(self.record_shape())) + 2 * self.audio_samples()
        step = max(1, chunk_length((record_bytes,)) // per)
        for i in range(start // per, len(items), step):
            got = [(self.read_records(item), y) for item, y in zip(items[i:i + step], labels[i:i + step])]
            yield self._chunk([(r, y) for r, y in got if r is not None], len(got) * per, name != "unlabeled")

    def _chunk(self, read: list, consumed: int, labeled: bool) -> Chunk:
        """read: [((records, sound or None), label)] of the readable items -> one Chunk."""
        per, shape = self.records_per_item(), self.record_shape()
        samples = np.concatenate([r[0] for r, _ in read]) if read else np.empty((0, *shape), self.record_dtype)
        y = np.concatenate([np.full(per, y) for _, y in read]).astype(np.int64) if read else np.empty(0, np.int64)
        audio = None
        if self.sample_kind == SampleKind.CLIP_AUDIO:  # each record comes with its (L,) waveform
            audio = np.concatenate([r[1] for r, _ in read]) if read else np.empty((0, self.audio_samples()), np.int16)
        return Chunk(samples, y if labeled else None, consumed, audio)
