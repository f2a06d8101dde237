"""Byte units, one definition each: GiB (what Kubernetes, the share's quota and the GPU catalog count) against the
decimal MB and GB that transfer rates, Hugging Face and ollama.com give."""
BYTES_PER_GIB = 1024 ** 3
MB_PER_GIB = BYTES_PER_GIB / 1e6
GB_PER_GIB = BYTES_PER_GIB / 1e9
MB_PER_MIB = 1024 ** 2 / 1e6
MIB_PER_GIB = 1024
