#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses: tests/fuzz/corpus/NAME/ for each harness
tests/fuzz/fuzz_NAME.c (other harnesses may bring corpora of their own). Small valid files,
each under 20 KB.

  tests/fuzz/make_corpus.py            rewrite every seed except the checkpoints
  tests/fuzz/make_corpus.py CLTRAIN    also train two tiny models with the cltrain binary
                                       CLTRAIN on PoCL to make fresh seed checkpoints

The run-options seeds are the OPTS sections of the seed checkpoints."""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(name, filename, data):
    folder = os.path.join(CORPUS, name)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 20000, filename
    with open(os.path.join(folder, filename), "wb") as f:
        f.write(data)


# ---- model files -------------------------------------------------------------------------

TINY_ADAM = """# A tiny model for the seed checkpoint: 4x4 average pool, batchnorm, dense.
[net]
input = 28x28x1
batch = 16
epochs = 1
optimizer = adam
learning_rate = 0.01
schedule = cosine

[avgpool]
size = 4

[batchnorm]

[dense]
units = 10

[softmax]
"""

TINY_SGD = """[net]
input = 28x28x1
batch = 8
epochs = 1
optimizer = sgd
learning_rate = 0.05
momentum = 0.9
nesterov = 1
weight_decay = 0.0001
schedule = step
step_every = 1
gamma = 0.5
warmup = 3
seed = 7

[maxpool]
size = 4
stride = 4

[dense]
units = 10
activation = linear

[softmax]
"""

EVERY_LAYER = """# Every layer type and key once.
[net]
input = 12x10x3   # H x W x C
batch = 4
epochs = 2
optimizer = adamw
learning_rate = 1e-3
weight_decay = 0.01
beta1 = 0.8
beta2 = 0.99
epsilon = 1e-7
schedule = constant
seed = 4294967295

[conv]
filters = 4
size = 3
stride = 1
padding = 1
activation = leaky_relu
alpha = 0.2
bias = 1

[batchnorm]
momentum = 0.9
epsilon = 0.001

[activation]
activation = tanh

[maxpool]
size = 2
stride = 2

[conv]
filters = 2
size = 1
padding = 0
bias = 0
activation = sigmoid

[avgpool]
size = 3
stride = 1

[dropout]
rate = 0.25

[dense]
units = 5
activation = relu

[dense]
units = 3
bias = 0

[softmax]
"""


def models():
    for f in sorted(os.listdir(os.path.join(ROOT, "models"))):
        if f.endswith(".cfg"):
            with open(os.path.join(ROOT, "models", f), "rb") as src:
                write("model", f, src.read())
    write("model", "tiny_adam.cfg", TINY_ADAM)
    write("model", "tiny_sgd.cfg", TINY_SGD)
    write("model", "every_layer.cfg", EVERY_LAYER)


# ---- IDX files ---------------------------------------------------------------------------


def idx(dims, fill=lambda i: (i * 7 + 3) & 255):
    count = 1
    for d in dims:
        count *= d
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(
        fill(i) for i in range(count))


IDX_SEEDS = {
    "labels-1d": idx([10], lambda i: i % 10),
    "images-3d": idx([3, 4, 4]),
    "matrix-2d": idx([2, 5]),
    "tensor-4d": idx([2, 2, 2, 3]),
    "one": idx([1]),
}


def gz(data):
    return gzip.compress(data, compresslevel=6, mtime=0)


def idx_corpora():
    for name, data in IDX_SEEDS.items():
        write("idx", name + ".idx", data)
        write("idx", name + ".idx.gz", gz(data))
        # fuzz_idx_gz: mode byte, amount byte, then the uncompressed IDX bytes.
        write("idx_gz", name + "-whole", bytes([0, 0]) + data)
    big = IDX_SEEDS["images-3d"]
    write("idx_gz", "images-3d-cut", bytes([1, 4]) + big)
    write("idx_gz", "images-3d-two-members", bytes([2, 9]) + big)
    write("idx_gz", "images-3d-garbage", bytes([3, 5]) + big)


# ---- PGM / PPM images --------------------------------------------------------------------


def pnm():
    write("pnm", "plain-grey.pgm", "P2\n# a comment\n3 2\n255\n0 128 255\n 10 20\t30\n")
    write("pnm", "plain-colour.ppm", "P3\n2 2 15\n0 0 0  15 0 0\n0 15 0  0 0 15\n")
    write("pnm", "raw-grey.pgm", b"P5 4 4 255\n" + bytes(range(0, 256, 16)))
    write("pnm", "raw-grey16.pgm", b"P5\n2 2\n65535\n" + b"\x00\x00\xff\xff\x80\x00\x12\x34")
    write("pnm", "raw-colour.ppm", b"P6\n#c\n3 3\n255\n" + bytes((i * 29) & 255 for i in range(27)))
    write("pnm", "raw-colour16.ppm", b"P6 1 2 1000\n" + bytes([0, 1, 3, 232, 1, 0] * 2))
    write("pnm", "digit-28x28.pgm", b"P5\n28 28\n255\n" + bytes(
        (255 if 8 <= x <= 19 and 4 <= y <= 23 else 0) for y in range(28) for x in range(28)))


# ---- checkpoints and their run options ----------------------------------------------------


def train_checkpoints(cltrain):
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (("tiny_adam", TINY_ADAM), ("tiny_sgd", TINY_SGD)):
            cfg = os.path.join(tmp, name + ".cfg")
            with open(cfg, "w") as f:
                f.write(text)
            ckpt = os.path.join(tmp, name + ".ckpt")
            subprocess.run([cltrain, "train", cfg, "--subset", "64", "--epochs", "1", "--device",
                            "pocl", "--save", ckpt, "--no-kernel-cache"], check=True,
                           stdout=subprocess.DEVNULL)
            with open(ckpt, "rb") as f:
                write("checkpoint", name + ".ckpt", f.read())


def sections(data):
    """The (tag, payload) pairs of a checkpoint (docs/CHECKPOINT.md)."""
    at = 24
    while at + 20 <= len(data):
        tag = data[at:at + 4]
        (length,) = struct.unpack("<Q", data[at + 4:at + 12])
        yield tag, data[at + 20:at + 20 + length]
        at += 20 + length
        if tag == b"END ":
            return


def run_options():
    folder = os.path.join(CORPUS, "checkpoint")
    for f in sorted(os.listdir(folder)):
        with open(os.path.join(folder, f), "rb") as src:
            for tag, payload in sections(src.read()):
                if tag == b"OPTS":
                    write("run_options", f.replace(".ckpt", ".opts"), payload)


# ---- PNG (fuzz_png); the JPEG seeds (fuzz_jpeg) are written by build/images-from-idx --jpeg
# (Python's standard library has no JPEG encoder) and kept as they are ------------------------

def png_bytes(width, height, colour_type, depth, rows, palette=None, trns=None, interlace=0):
    """A PNG of the given rows (each a bytes object of packed samples, filter byte added)."""
    import zlib

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", width, height, depth, colour_type, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", palette)
    if trns:
        out += chunk(b"tRNS", trns)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png():
    write("png", "grey-4x3.png", png_bytes(4, 3, 0, 8, [bytes(range(r * 60, r * 60 + 4)) for r in range(3)]))
    write("png", "grey-1bit-8x2.png", png_bytes(8, 2, 0, 1, [b"\xa5", b"\x3c"]))
    write("png", "grey16-2x2.png", png_bytes(2, 2, 0, 16, [b"\x00\x00\xff\xff", b"\x80\x00\x12\x34"]))
    write("png", "rgb-3x2.png", png_bytes(3, 2, 2, 8, [bytes(range(9)), bytes(range(100, 109))]))
    write("png", "rgba-2x2.png", png_bytes(2, 2, 6, 8, [bytes(range(8)), bytes(range(50, 58))]))
    write("png", "grey-alpha-2x1.png", png_bytes(2, 1, 4, 8, [b"\x10\x80\xf0\xff"]))
    write("png", "palette-4x1.png", png_bytes(4, 1, 3, 2, [b"\x1b"], palette=bytes(range(12)),
                                                trns=b"\x80"))
    write("png", "interlaced-5x5.png", png_bytes(5, 5, 0, 8, [bytes(range(r, r + 5)) for r in range(5)],
                                                   interlace=1))
    write("png", "one-pixel.png", png_bytes(1, 1, 0, 8, [b"\x7f"]))


def main():
    models()
    idx_corpora()
    pnm()
    png()
    if len(sys.argv) > 1:
        train_checkpoints(sys.argv[1])
    run_options()


if __name__ == "__main__":
    main()
