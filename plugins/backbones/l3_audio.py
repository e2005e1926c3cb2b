"""The audio tower of the Look, Listen and Learn network (L3-Net, Arandjelovic & Zisserman,
2017): a VGG-style CNN on the log spectrogram of one second of sound, four blocks of two
3x3 conv-BN-ReLU layers with 2x2 max-pooling between them, max-pooled over the whole map
at the end. Here it reads a log-mel spectrogram computed on the device."""
from __future__ import annotations

from torch import nn

from engine.api import AudioBackboneBase, Param, register_backbone, vgg_block


@register_backbone
class L3Audio(AudioBackboneBase):
    id = "l3_audio"
    title = "L3-Net audio tower (spectrogram CNN)"
    summary = ("Log-mel spectrogram of the waveform, computed on the device, then four VGG-style blocks of two "
               "3x3 conv-BN-ReLU layers with 2x2 max-pooling, widths doubling from `width`, max-pooled over "
               "mel and time. The paper's widths are 64-512 on a 257-bin log spectrogram; 16-32 suit a CPU.")
    citation = "Arandjelovic & Zisserman, 2017 (ICCV), Look, Listen and Learn"
    params = [
        Param("width", "int", 32, "channels of the first block (doubled each block; the paper: 64)", 8, 256),
        Param("n_mels", "int", 64, "mel bands of the spectrogram", 8, 256),
        Param("window_ms", "float", 25.0, "STFT window in milliseconds", 5.0, 200.0),
        Param("hop_ms", "float", 10.0, "STFT hop in milliseconds", 1.0, 100.0),
        Param("sample_rate", "int", 16000, "sample rate assumed when a batch does not state one", 4000, 48000),
    ]

    def __init__(self, image_size: int = 32, width: int = 32, n_mels: int = 64, window_ms: float = 25.0,
                 hop_ms: float = 10.0, sample_rate: int = 16000):
        super().__init__()
        self.n_mels, self.window_ms, self.hop_ms, self.sample_rate = n_mels, window_ms, hop_ms, sample_rate
        w = width
        # blocks of two conv-BN-ReLU layers over (N, C, mel, time), 2x2 max-pooling after all but the last
        self.stem = vgg_block(1, w, 2, pool=True)
        self.layers = nn.ModuleList([vgg_block(w, 2 * w, 2, pool=True), vgg_block(2 * w, 4 * w, 2, pool=True),
                                     vgg_block(4 * w, 8 * w, 2)])
        self.num_features = 8 * w
