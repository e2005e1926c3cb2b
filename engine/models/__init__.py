"""Network parts that backbones and methods share: the backbone base and the transformer block."""
