"""Input noise conventions and a fast float32 Gaussian sampler."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["REFERENCE_DT", "fill_gaussian", "white_noise_std"]

# Time step in ms at which ``stim_noise`` equals the per-step standard deviation.
REFERENCE_DT = 10.0

# A float32 whose exponent bits are those of 1.0: OR-ing 23 random mantissa bits into it gives a
# uniform value in [1, 2) without a conversion pass.
_ONE_BITS = np.uint32(0x3F800000)
_TWO_PI = np.float32(2.0 * math.pi)
# Pairs of samples made per block: 96 KiB of raw bits. The temporaries then stay under glibc's
# default mmap threshold (128 KiB, see mallopt(3)). Larger ones cost page faults on every batch.
_CHUNK = 12288


def white_noise_std(dt: float, stim_noise: float) -> float:
    """Return the per-step standard deviation ``stim_noise * sqrt(10 ms / dt)``.

    Scaling by ``1 / sqrt(dt)`` makes the noise a sampled white noise, so its effect on a network
    that integrates over time does not depend on dt. The tasks added by this package use it;
    PsychRNN's three tasks keep their own formulas.
    """
    return stim_noise * math.sqrt(REFERENCE_DT / dt)


def fill_gaussian(rng: np.random.Generator, out: np.ndarray, std: Any = 1.0) -> None:
    """Fill the C-contiguous float32 array ``out`` with independent Gaussian samples.

    ``std`` is a scalar or an array that broadcasts against ``out`` (one value per input channel,
    say). The samples come from the Box-Muller transform of uniforms cut from the raw 64-bit
    output of ``rng``'s bit generator. NumPy's ziggurat (``rng.standard_normal(dtype=float32)``)
    takes about twice as long, and the noise is most of the time of a batch with many input
    channels. The same generator state gives the same samples with the same NumPy on the same
    kind of CPU. NumPy's float32 ``log``, ``sin`` and ``cos`` may round the last bit differently
    on another instruction set.

    The uniforms have 23 bits, so no sample lies beyond 5.65 standard deviations (probability
    1.6e-8 for a true Gaussian).
    """
    if out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(
            f"fill_gaussian needs a C-contiguous float32 array (got dtype {out.dtype}, "
            f"C-contiguous {out.flags.c_contiguous}); pass np.empty(shape, dtype=np.float32)"
        )
    flat = out.reshape(-1)
    scalar = np.ndim(std) == 0
    # Folding a scalar std into the radius saves a pass over the whole array.
    scale = np.float32(-2.0 * (float(std) ** 2 if scalar else 1.0))
    even = flat.size - flat.size % 2
    # Work in blocks of 2 * _CHUNK samples. The temporaries then come from the heap again each
    # block instead of fresh pages that the kernel has to map and zero, and every pass over a
    # block finds it in cache.
    cosine = np.empty(min(_CHUNK, even // 2), dtype=np.float32)
    for begin in range(0, even, 2 * _CHUNK):
        block = flat[begin : min(begin + 2 * _CHUNK, even)]
        pairs = block.size // 2
        # Each 64-bit draw gives two uniforms in [1, 2), one per 32-bit half.
        raw = rng.bit_generator.random_raw(pairs).view(np.uint32)
        bits = block.view(np.uint32)
        np.right_shift(raw, np.uint32(9), out=bits)
        np.bitwise_or(bits, _ONE_BITS, out=bits)
        # The first half of the block becomes the radius of each pair, the second its angle.
        radius, angle, cosine_part = block[:pairs], block[pairs:], cosine[:pairs]
        np.subtract(np.float32(2.0), radius, out=radius)  # in (0, 1], so the log is finite
        np.log(radius, out=radius)
        np.multiply(radius, scale, out=radius)
        np.sqrt(radius, out=radius)
        np.subtract(angle, np.float32(1.0), out=angle)
        np.multiply(angle, _TWO_PI, out=angle)
        np.cos(angle, out=cosine_part)
        np.sin(angle, out=angle)
        np.multiply(angle, radius, out=angle)
        np.multiply(radius, cosine_part, out=radius)
    if flat.size % 2:
        flat[-1] = rng.standard_normal(dtype=np.float32) * np.float32(std if scalar else 1.0)
    if not scalar:
        np.multiply(out, np.asarray(std, dtype=np.float32), out=out)
