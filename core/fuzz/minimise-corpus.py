#!/usr/bin/env python3
"""Minimises one fuzz target's committed corpus to a small set with the same edge coverage.

    minimise-corpus.py FUZZ_DIR TARGET [--max N]      (N defaults to 500)

FUZZ_DIR is core/fuzz or cli/fuzz. Needs the nightly toolchain and cargo-fuzz. Steps:

1. `cargo +nightly fuzz build TARGET` (honours CARGO_TARGET_DIR).
2. A libFuzzer merge of FUZZ_DIR/corpus/TARGET (what `cargo fuzz cmin` runs), with
   `-set_cover_merge=1` so that its control file lists every edge each input covers (a plain
   `-merge=1` lists only the edges new at that input) and `-use_counters=0` so that a feature is
   an edge, not an edge and hit-count bucket (with buckets, `cargo fuzz cmin` keeps nearly every
   input). An input that crashes, times out or runs out of memory there is dropped.
3. Greedy set cover over those edges: repeatedly keep the input adding the most edges not yet
   covered (ties: the smaller file, then the name), until every edge is covered or N inputs are
   kept. Every other file of the corpus is deleted. Repeatable for a given build and corpus, up to
   a few edges whose coverage varies from run to run (a rerun may swap a few inputs).

Prints the counts and the share of edges the kept inputs cover.
"""

import argparse
import heapq
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def fuzz_binary(fuzz_dir: Path, target: str) -> Path:
    subprocess.run(["cargo", "+nightly", "fuzz", "build", target], cwd=fuzz_dir, check=True)
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or fuzz_dir / "target")
    triple = subprocess.run(
        ["rustc", "+nightly", "-vV"], capture_output=True, text=True, check=True
    ).stdout.split("host: ")[1].split()[0]
    binary = target_dir / triple / "release" / target
    if not binary.is_file():
        sys.exit(f"{binary}: not built")
    return binary


def edges_per_input(binary: Path, corpus: Path) -> dict[Path, frozenset[int]]:
    """Runs a libFuzzer merge and reads its control file: input -> the features (edges) it covers."""
    with tempfile.TemporaryDirectory() as scratch:
        control = Path(scratch) / "control"
        out = Path(scratch) / "out"
        out.mkdir()
        subprocess.run(
            [str(binary), "-set_cover_merge=1", "-use_counters=0", f"-merge_control_file={control}",
             "-rss_limit_mb=2048", "-timeout=10", str(out), str(corpus)],
            check=True, stderr=subprocess.DEVNULL,
        )
        lines = control.read_text().splitlines()
    count = int(lines[0])
    files = [Path(name) for name in lines[2 : 2 + count]]
    features: dict[Path, frozenset[int]] = {}
    for line in lines[2 + count :]:
        if line.startswith("FT "):
            index, *ft = line.split()[1:]
            features[files[int(index)]] = frozenset(int(f) for f in ft)
    return features


def greedy_cover(features: dict[Path, frozenset[int]], limit: int) -> list[Path]:
    """Lazy greedy set cover, at most `limit` inputs."""
    heap = [(-len(ft), path.stat().st_size, path.name, path) for path, ft in features.items()]
    heapq.heapify(heap)
    covered: set[int] = set()
    kept: list[Path] = []
    while heap and len(kept) < limit:
        neg_gain, size, name, path = heapq.heappop(heap)
        gain = len(features[path] - covered)
        if gain == 0:
            continue  # no longer adds anything; nor will it later
        if gain < -neg_gain:
            heapq.heappush(heap, (-gain, size, name, path))  # stale: re-rank with its current gain
            continue
        kept.append(path)
        covered |= features[path]
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fuzz_dir", type=Path)
    parser.add_argument("target")
    parser.add_argument("--max", type=int, default=500)
    args = parser.parse_args()
    fuzz_dir = args.fuzz_dir.resolve()
    corpus = fuzz_dir / "corpus" / args.target
    before = sorted(p for p in corpus.iterdir() if p.is_file())

    features = edges_per_input(fuzz_binary(fuzz_dir, args.target), corpus)
    all_edges = frozenset().union(*features.values())
    kept = greedy_cover(features, args.max)
    kept_edges = frozenset().union(*(features[p] for p in kept))

    keep = {p.name for p in kept}
    for path in before:
        if path.name not in keep:
            path.unlink()
    share = 100.0 * len(kept_edges) / max(len(all_edges), 1)
    print(
        f"{args.target}: {len(before)} -> {len(kept)} inputs "
        f"({len(before) - len(features)} dropped by the merge run); "
        f"edges covered {len(kept_edges)} of {len(all_edges)} ({share:.1f}%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
