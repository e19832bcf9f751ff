#!/usr/bin/env python3
"""DataFlow-MM's ImageBboxGenerator as a reference for groundcap's parity tests.

Restates, with OpenCV from Python (Debian's python3-opencv, the library
DataFlow-MM itself calls), what that operator does to each input row, with
its exact parameters (see docs/formats.md, "DataFlow mode"):

- no "bbox" key: contour proposals (grey, 5x5 Gaussian blur, adaptive
  Gaussian threshold block 11 C 2 inverted, 8x8 close, all contours, contour
  area within 1-80 % of the image, box aspect 0.1-5, no side over 90 %,
  largest box first, a box dropped when more than 30 % of it lies inside a
  kept one);
- normalized_bbox: xywh -> [x/W, y/H, (x+w)/W, (y+h)/H] rounded to 3
  decimals, first max_boxes only, padded with zeros to max_boxes;
- valid_bboxes_num: normalised boxes whose coordinates do not sum to 0;
- the prompt, and the marked image: the picture dimmed to 80 %, each box a
  2 px green rectangle, its 1-based number in white on black at (x+4, y+20).

    dataflow_reference.py INPUT_JSONL IMAGE_ROOT OUT_DIR [MAX_BOXES]

writes OUT_DIR/expected.jsonl (one line per input row: image, type, bbox,
normalized_bbox, valid_bboxes_num, prompt) and OUT_DIR/marks/<row>.png
(lossless, so tests can compare pixels). Exit 3 when cv2 cannot be imported.
"""
import json
import os
import sys

try:
    import cv2
    import numpy as np
except ImportError as e:  # the caller skips with this message
    print(f"dataflow_reference.py needs python3-opencv: {e}", file=sys.stderr)
    sys.exit(3)


def proposals(image_bgr):
    h_img, w_img = image_bgr.shape[:2]
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    binary = cv2.adaptiveThreshold(blurred, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                   cv2.THRESH_BINARY_INV, 11, 2)
    closed = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((8, 8), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    area_img = w_img * h_img
    candidates = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if h == 0:
            continue
        area = cv2.contourArea(c)
        if not (0.01 * area_img <= area <= 0.8 * area_img):
            continue
        if not (0.1 <= w / h <= 5):
            continue
        if w > 0.9 * w_img or h > 0.9 * h_img:
            continue
        candidates.append([x, y, w, h])
    candidates.sort(key=lambda b: b[2] * b[3], reverse=True)  # stable, like DataFlow's sorted()
    kept = []
    for b in candidates:
        inside = False
        for k in kept:
            ix = max(0, min(k[0] + k[2], b[0] + b[2]) - max(k[0], b[0]))
            iy = max(0, min(k[1] + k[3], b[1] + b[3]) - max(k[1], b[1]))
            if b[2] * b[3] > 0 and ix * iy / (b[2] * b[3]) > 0.3:
                inside = True
                break
        if not inside:
            kept.append(b)
    return [[int(v) for v in b] for b in kept]


def normalize(boxes, w_img, h_img, max_boxes):
    out = []
    for x, y, w, h in boxes[:max_boxes]:
        out.append([round(x / w_img, 3), round(y / h_img, 3),
                    round((x + w) / w_img, 3), round((y + h) / h_img, 3)])
    while len(out) < max_boxes:
        out.append([0.0, 0.0, 0.0, 0.0])
    return out


def paint(image_bgr, boxes, max_boxes):
    out = cv2.addWeighted(image_bgr, 0.8, np.zeros_like(image_bgr), 0.2, 0)
    for i, (x, y, w, h) in enumerate(boxes[:max_boxes], 1):
        x, y, w, h = int(x), int(y), int(w), int(h)
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
        text = str(i)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.65, 2)
        tx, ty = x + 4, y + 20
        cv2.rectangle(out, (tx, ty - th - base), (tx + tw, ty + base), (0, 0, 0), -1)
        cv2.putText(out, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.65, (255, 255, 255), 2)
    return out


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    input_jsonl, image_root, out_dir = argv[1:4]
    max_boxes = int(argv[4]) if len(argv) == 5 else 10
    os.makedirs(os.path.join(out_dir, "marks"), exist_ok=True)
    with open(input_jsonl, encoding="utf-8") as f, \
            open(os.path.join(out_dir, "expected.jsonl"), "w", encoding="utf-8") as out:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            image = cv2.imread(os.path.join(image_root, row["image"]))
            if image is None:
                print(f"{input_jsonl}:{n + 1}: cannot read {row['image']}", file=sys.stderr)
                return 1
            h_img, w_img = image.shape[:2]
            if "bbox" in row:
                kind, boxes = "with_bbox", row["bbox"]
            else:
                kind, boxes = "without_bbox", proposals(image)
            norm = normalize(boxes, w_img, h_img, max_boxes)
            valid = sum(1 for b in norm if sum(b) != 0)
            record = {
                "image": row["image"], "type": kind, "bbox": boxes, "normalized_bbox": norm,
                "valid_bboxes_num": valid,
                "prompt": "Describe the content of each marked region in the image. "
                          f"There are {valid} regions: <region1> to <region{valid}>.",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            cv2.imwrite(os.path.join(out_dir, "marks", f"{n}.png"), paint(image, boxes, max_boxes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
