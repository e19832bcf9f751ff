#!/usr/bin/env python3
"""Checks that every `#include "..."` in src/ follows the layer table.

The table lives in docs/design.md (section "Layers"), so the document and the
check cannot drift apart: each row names a folder under src/ and the folders
its files may include. A file may always include its own folder. The row for
`*_test.cc` lists what tests (and their `*_test_util.h` helpers) may include
on top of their folder's rules.

    scripts/check_layers.py [ROOT]       check ROOT (default: the repository)
    scripts/check_layers.py --self-test  prove the check fails on a bad include

Exit 0 when every include is allowed, 1 with one line per offending include
("src/util/log.cc:12: util/ may not include cli/commands.h ..."), 2 when the
table cannot be read.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

TABLE_HEADING = "## Layers"
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
TEST_ROW = "*_test.cc"


def read_table(design_md):
    """Returns ({layer: set(allowed layers or header paths)}, test_extras)."""
    text = design_md.read_text(encoding="utf-8")
    start = next((m.start() for m in re.finditer("^" + re.escape(TABLE_HEADING) + r"\b", text, re.M)), -1)
    if start < 0:
        raise ValueError(f"{design_md}: no '{TABLE_HEADING}' section")
    rules, extras = {}, set()
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`").rstrip("/")
        allowed = {a.strip("`").rstrip("/") for a in re.findall(r"`[^`]+`", cells[1])}
        if name == TEST_ROW:
            extras = allowed
        else:
            rules[name] = allowed
    if not rules:
        raise ValueError(f"{design_md}: the '{TABLE_HEADING}' section has no table rows")
    return rules, extras


def check(root):
    root = pathlib.Path(root)
    try:
        rules, test_extras = read_table(root / "docs" / "design.md")
    except (OSError, ValueError) as e:
        print(f"check_layers: {e}", file=sys.stderr)
        return 2
    src = root / "src"
    problems = []
    for path in sorted(p for p in src.rglob("*") if p.suffix in (".h", ".cc")):
        rel = path.relative_to(root)
        parts = path.relative_to(src).parts
        if len(parts) != 2:
            problems.append(f"{rel}:1: files live one folder deep under src/ (src/<layer>/<file>)")
            continue
        layer = parts[0]
        if layer not in rules:
            problems.append(f"{rel}:1: folder {layer}/ is not in the layer table of docs/design.md")
            continue
        allowed = rules[layer] | {layer}
        # Test helpers (foo_test_util.h) are included by tests only, so they
        # follow the tests' row; any other file including one is an error.
        is_test = path.name.endswith(("_test.cc", "_test_util.h"))
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            target = m.group(1)
            target_layer = target.split("/", 1)[0] if "/" in target else None
            if target.endswith("_test_util.h") and not is_test:
                problems.append(f"{rel}:{lineno}: {target} is a test helper; only tests may include it")
            elif target_layer is None:
                problems.append(f'{rel}:{lineno}: include "{target}" must name its layer folder ("<layer>/{target}")')
            elif target_layer in allowed:
                continue
            elif is_test and (target_layer in test_extras or target in test_extras):
                continue
            else:
                problems.append(f"{rel}:{lineno}: {layer}/ may not include {target} "
                                f"(allowed: {', '.join(sorted(allowed))}; table in docs/design.md)")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layer table", file=sys.stderr)
        return 1
    return 0


def self_test(root):
    """Runs the check on a copy of the tree: clean must pass, a planted
    upward include must fail and name its file and line."""
    root = pathlib.Path(root)
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp)
        shutil.copytree(root / "src", copy / "src")
        (copy / "docs").mkdir()
        shutil.copy(root / "docs" / "design.md", copy / "docs" / "design.md")
        clean = subprocess.run([sys.executable, __file__, str(copy)], capture_output=True, text=True)
        if clean.returncode != 0:
            print("self-test: the clean copy failed:\n" + clean.stdout + clean.stderr)
            return 1
        victim = copy / "src" / "util" / "log.cc"
        lines = victim.read_text(encoding="utf-8").splitlines()
        lines.insert(3, '#include "cli/commands.h"')
        victim.write_text("\n".join(lines) + "\n", encoding="utf-8")
        (copy / "src" / "engine" / "stray.h").write_text('#include "spans.h"\n', encoding="utf-8")
        (copy / "src" / "teacher" / "stray.cc").write_text('#include "teacher/teacher_test_util.h"\n',
                                                           encoding="utf-8")
        bad = subprocess.run([sys.executable, __file__, str(copy)], capture_output=True, text=True)
        want = ["src/util/log.cc:4: util/ may not include cli/commands.h",
                'src/engine/stray.h:1: include "spans.h" must name its layer folder',
                "src/teacher/stray.cc:1: teacher/teacher_test_util.h is a test helper; only tests may include it"]
        missing = [w for w in want if w not in bad.stdout]
        if bad.returncode != 1 or missing:
            print(f"self-test: expected exit 1 and {missing}, got {bad.returncode}:\n{bad.stdout}{bad.stderr}")
            return 1
    print("check_layers self-test: clean tree passes, planted includes are reported with file and line")
    return 0


if __name__ == "__main__":
    here = pathlib.Path(__file__).resolve().parent.parent
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sys.exit(self_test(here))
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else here))
