"""ImageArrayDataset: a subclass gives counts and raw blocks; the base resizes, labels and resumes."""
import numpy as np

from engine.api import ImageArrayDataset, Param, resize_images

IMAGES = np.random.default_rng(0).integers(0, 256, (11, 4, 4, 3), dtype=np.uint8)
LABELS = np.arange(11, dtype=np.int64) % 3


class Tiny(ImageArrayDataset):
    id = "tiny_arrays"
    class_names = ("a", "b", "c")
    stored_side = 4
    params = [Param("image_size", "int", 8, "side", 4, 64)]

    def count(self, name):
        return len(IMAGES)

    def chunk_step(self):
        return 3

    def blocks(self, name, start, step):
        images = (IMAGES[i:i + step] for i in range(start, len(IMAGES), step))
        return self.with_labels(images, LABELS if self.labeled(name) else None, start)


def test_resumes_from_start_and_resizes_to_image_size():
    ds = Tiny()
    assert ds.image_size == 8  # the declared default when the param is not given
    whole = list(ds.iter_split("train"))
    assert [c.samples.shape for c in whole] == [(3, 8, 8, 3)] * 3 + [(2, 8, 8, 3)]
    all_samples = np.concatenate([c.samples for c in whole])
    np.testing.assert_array_equal(all_samples, resize_images(IMAGES, 8))
    for k in (0, 1, 5, 10):
        tail = list(ds.iter_split("train", start=k))
        np.testing.assert_array_equal(np.concatenate([c.samples for c in tail]), all_samples[k:])
        np.testing.assert_array_equal(np.concatenate([c.labels for c in tail]), LABELS[k:])
    assert all(c.labels is None for c in ds.iter_split("unlabeled", start=4))
    stored = np.concatenate([c.samples for c in Tiny(image_size=4).iter_split("test", start=2)])
    np.testing.assert_array_equal(stored, IMAGES[2:])  # at the stored size, the pixels as stored
    spec = ds.split_spec("unlabeled")
    assert (spec.count, spec.sample_shape, spec.classes, spec.labeled) == (11, (8, 8, 3), ("a", "b", "c"), False)
