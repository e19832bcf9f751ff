#!/usr/bin/env python3
"""A TAO-style image-grounding runner, the baseline of bench/efficiency_bench.

What NVIDIA TAO's auto_label image_grounding does per step (notes:
tao-image-grounding.md): a ThreadPoolExecutor of `max_workers` threads, one
task per record, each making one blocking HTTP call with the raw image bytes
base64-encoded (no resizing), parsing the JSON reply and writing a
per-sample checkpoint file; step 0 (expression extraction) over all records,
then step 1 (grounding) over all records. Python 3 standard library only:
http.client with one keep-alive connection per thread (as the OpenAI client's
connection pool would give), json, base64.

  tao_runner.py --url http://127.0.0.1:PORT/v1 --input in.jsonl \
      --image-root DIR --out DIR [--workers 256]

Prints one JSON line: samples, wall_s, cpu_s (this process, after start-up),
requests, failed.
"""
import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import resource
import threading
import time
import urllib.parse

_local = threading.local()


def _connection(url):
    conn = getattr(_local, "conn", None)
    if conn is None:
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        _local.conn = conn
    return conn


def chat(url, model, prompt, image_path):
    """One blocking chat-completions call with the image inline, as TAO sends it."""
    with open(image_path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    body = json.dumps({
        "model": model,
        "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + data}},
            {"type": "text", "text": prompt}]}],
        "temperature": 0.7,
        "max_tokens": 4096,
    })
    path = urllib.parse.urlsplit(url).path.rstrip("/") + "/chat/completions"
    for attempt in range(2):
        conn = _connection(url)
        try:
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/json", "Authorization": "Bearer EMPTY"})
            resp = conn.getresponse()
            payload = resp.read()
            break
        except (http.client.HTTPException, OSError):
            conn.close()
            _local.conn = None
            if attempt == 1:
                raise
    if resp.status != 200:
        raise RuntimeError("HTTP %d" % resp.status)
    return json.loads(payload)["choices"][0]["message"]["content"]


def step0(args, record, ckpt_dir, lock):
    prompt = ("Extract the referring expressions of this caption as JSON.\nCaption: "
              + record["caption"])
    reply = json.loads(chat(args.url, args.model, prompt,
                            os.path.join(args.image_root, record["image_path"])))
    out = dict(record)
    out["cleaned_caption"] = reply.get("cleaned_caption", record["caption"])
    out["expressions"] = [{"text": e["text"], "instances": []} for e in reply.get("expressions", [])]
    with lock:
        with open(os.path.join(ckpt_dir, record["id"] + ".json"), "w") as f:
            json.dump(out, f)
    return out


def step1(args, record, ckpt_dir, lock):
    lines = "".join("E%d: %s\n" % (k, e["text"]) for k, e in enumerate(record["expressions"]))
    prompt = "Ground each expression with box_2d as JSON.\n" + lines
    boxes = json.loads(chat(args.url, args.model, prompt,
                            os.path.join(args.image_root, record["image_path"])))
    out = dict(record)
    for b in boxes:
        k = int(b["label"][1:])
        y1, x1, y2, x2 = b["box_2d"]
        out["expressions"][k]["instances"].append({"bbox": [x1, y1, x2, y2], "score": b.get("score", 0.9)})
    with lock:
        with open(os.path.join(ckpt_dir, record["id"] + ".json"), "w") as f:
            json.dump(out, f)
    return out


def run_step(args, fn, records, name):
    ckpt_dir = os.path.join(args.out, name, ".ckpt")
    os.makedirs(ckpt_dir, exist_ok=True)
    lock = threading.Lock()
    results, failed = [None] * len(records), 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(fn, args, r, ckpt_dir, lock): i for i, r in enumerate(records)}
        for fut in concurrent.futures.as_completed(futures):
            try:
                results[futures[fut]] = fut.result()
            except Exception:  # noqa: BLE001 - a failed sample is counted, as TAO logs and goes on
                failed += 1
    ok = [r for r in results if r is not None]
    with open(os.path.join(args.out, name, "annotations.jsonl"), "w") as f:
        for r in ok:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return ok, failed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--model", default="bench")
    p.add_argument("--input", required=True)
    p.add_argument("--image-root", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=256)
    args = p.parse_args()
    t0 = time.monotonic()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with open(args.input) as f:
        records = [json.loads(line) for line in f if line.strip()]
    for i, r in enumerate(records):
        r["id"] = str(i)
    step0_out, failed0 = run_step(args, step0, records, "step_0_expression_extraction")
    step1_out, failed1 = run_step(args, step1, step0_out, "step_1_grounding")
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "samples": len(records),
        "wall_s": time.monotonic() - t0,
        "cpu_s": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "requests": len(records) + len(step0_out),
        "failed": failed0 + failed1,
        "done": len(step1_out),
    }))


if __name__ == "__main__":
    main()
