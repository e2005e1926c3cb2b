"""What a logged metric key is called on screen, and its unit: one mapping for every plot,
table header and dialog (``contrastive_acc`` -> "Contrastive accuracy").

Keys the engine and the built-in methods log are listed; any other key reads by a rule
(``<word>_acc`` -> "<Word> accuracy", ``_mb`` -> MB, ``_percent`` -> %), so a third-party
method's metrics get readable titles too. Imports nothing heavy (the GUI reads it before torch).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricLabel:
    title: str
    unit: str = ""  # "" when the value has none (a loss, a fraction)

    @property
    def axis(self) -> str:
        """The title with its unit, for an axis: "Resident memory (MB)"."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


KNOWN = {
    "loss": MetricLabel("Loss"),
    "lr": MetricLabel("Learning rate"),
    "epoch": MetricLabel("Epoch"),
    "img_per_s": MetricLabel("Throughput", "img/s"),
    "active_seconds": MetricLabel("Time trained", "s"),
    "knn_acc": MetricLabel("kNN accuracy"),
    "online_linear_acc": MetricLabel("Online linear-probe accuracy"),
    "knn_random_init": MetricLabel("kNN accuracy of a random init"),
    "knn_chance": MetricLabel("kNN chance level"),
    "contrastive_acc": MetricLabel("Contrastive accuracy"),
    "retrieval_acc": MetricLabel("Retrieval accuracy"),
    "rotation_acc": MetricLabel("Rotation accuracy"),
    "relpos_acc": MetricLabel("Relative-position accuracy"),
    "cpc_acc": MetricLabel("CPC accuracy"),
    "exemplar_acc": MetricLabel("Exemplar accuracy"),
    "jigsaw_acc": MetricLabel("Jigsaw accuracy"),
    "colorization_acc": MetricLabel("Colourisation accuracy"),
    "train_acc": MetricLabel("Training accuracy"),
    "inpaint_psnr": MetricLabel("Inpainting PSNR", "dB"),
    "recon_loss": MetricLabel("Reconstruction loss"),
    "nat_cosine": MetricLabel("NAT cosine similarity"),
    "momentum": MetricLabel("Momentum"),
    "teacher_temp": MetricLabel("Teacher temperature"),
    "teacher_entropy": MetricLabel("Teacher entropy"),
    "kl_divergence": MetricLabel("KL divergence"),
    "code_agreement": MetricLabel("Code agreement"),
    "output_std": MetricLabel("Output std"),
    "sim_loss": MetricLabel("Invariance loss"),
    "var_loss": MetricLabel("Variance loss"),
    "cov_loss": MetricLabel("Covariance loss"),
    "redundancy": MetricLabel("Redundancy"),
    "cpu_percent": MetricLabel("CPU", "%"),
    "rss_mb": MetricLabel("Resident memory", "MB"),
    "gpu_util": MetricLabel("GPU utilisation", "%"),
    "gpu_mem_mb": MetricLabel("GPU memory", "MB"),
}
SUFFIX_UNITS = (("_percent", "%"), ("_mb", "MB"), ("_seconds", "s"), ("_per_s", "/s"), ("_psnr", "dB"))


def metric_label(key: str) -> MetricLabel:
    """The title and unit of metric ``key``."""
    if key in KNOWN:
        return KNOWN[key]
    words, unit = key, ""
    for suffix, suffix_unit in SUFFIX_UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            words, unit = key[: -len(suffix)], suffix_unit
            break
    if words.endswith("_acc"):
        words = words[:-4] + " accuracy"
    text = words.replace("_", " ").strip()
    return MetricLabel(text[:1].upper() + text[1:], unit)


def metric_title(key: str) -> str:
    return metric_label(key).title
