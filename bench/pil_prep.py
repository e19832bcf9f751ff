#!/usr/bin/python3
"""The work of groundcap's PrepareForTeacher + Base64Encode, done with PIL.

Baseline for bench/image_bench.cc (run both with bench/run_image_bench.sh):
open, JPEG shrink-on-load via Image.draft(), EXIF orientation
(ImageOps.exif_transpose), resize to the same pixel-budget size as
groundcap's PreparedSize with LANCZOS, save JPEG q90 (4:2:0, no metadata)
to memory, base64 encode.

  pil_prep.py --case FILE [--reps 5] [--iters N] [--filter lanczos|bicubic] [--no-draft]

--no-draft skips Image.draft(), as Python pipelines usually do (DataFlow-MM and
qwen-vl-utils open, convert and resize): PIL then decodes every pixel.

Prints one line `pil case=... img_per_s=<median> ... peak_rss_kib=...`
(`pil-nodraft ...` with --no-draft).
Use Debian's interpreter (/usr/bin/python3) so python3-pil is the one measured.
"""
import argparse
import base64
import io
import math
import os
import resource
import statistics
import time

from PIL import Image, ImageOps

PIXEL_BUDGET = 1003520  # groundcap PrepareOptions default (1280*28*28)
SEND_QUALITY = 90


def prepared_size(w, h, budget=PIXEL_BUDGET):
    """groundcap's PreparedSize for kPixelBudget without upscaling."""
    if w * h <= budget:
        return w, h
    scale = math.sqrt(budget / (w * h))
    tw = max(1, math.floor(w * scale + 1e-9))
    th = max(1, math.floor(h * scale + 1e-9))
    return tw, th


def prepare(path, resample, draft=True):
    im = Image.open(path)
    orientation = im.getexif().get(0x0112, 1)
    w, h = im.size
    if orientation in (5, 6, 7, 8):
        w, h = h, w  # upright size
    tw, th = prepared_size(w, h)
    if draft and (tw, th) != (w, h):
        # draft() must come before the first load (exif_transpose loads), and
        # takes the size in the stored orientation. It picks the largest DCT
        # scale (1/2, 1/4, 1/8) that keeps the decoded image >= the request.
        stored_request = (th, tw) if orientation in (5, 6, 7, 8) else (tw, th)
        im.draft("RGB", stored_request)
    im = ImageOps.exif_transpose(im)
    if im.mode != "RGB":
        im = im.convert("RGB")
    if im.size != (tw, th):
        im = im.resize((tw, th), resample)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=SEND_QUALITY, subsampling=2)  # 2 = 4:2:0, like groundcap
    data = buf.getvalue()
    return base64.b64encode(data), (tw, th), len(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--filter", choices=["lanczos", "bicubic"], default="lanczos")
    ap.add_argument("--no-draft", action="store_true")
    args = ap.parse_args()
    resample = Image.LANCZOS if args.filter == "lanczos" else Image.BICUBIC

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # interpreter + PIL imported
    with Image.open(args.case) as probe:
        src = probe.size
    iters = args.iters or (4 if src[0] * src[1] > 4_000_000 else 20)
    _, sent, out_bytes = prepare(args.case, resample, not args.no_draft)  # warm-up
    rates = []
    sink = 0
    for _ in range(max(1, args.reps)):
        t0 = time.perf_counter()
        for _ in range(iters):
            b64, sent, out_bytes = prepare(args.case, resample, not args.no_draft)
            sink += len(b64)
        rates.append(iters / (time.perf_counter() - t0))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"{'pil-nodraft' if args.no_draft else 'pil'} case={os.path.basename(args.case)} src={src[0]}x{src[1]} "
        f"sent={sent[0]}x{sent[1]} out_bytes={out_bytes} reps={len(rates)} iters={iters} "
        f"img_per_s={statistics.median(rates):.3f} "
        f"all={','.join(f'{r:.3f}' for r in rates)} peak_rss_kib={peak} baseline_rss_kib={baseline} "
        f"filter={args.filter} sink={sink}"
    )


if __name__ == "__main__":
    main()
