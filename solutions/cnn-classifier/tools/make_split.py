"""Split the UCI handwritten-digits file once into a training split (shipped to candidates)
and a held-out split (kept with the hidden checks). Deterministic: the same input always
gives byte-identical outputs.

    python solutions/cnn-classifier/tools/make_split.py path/to/digits.csv.gz

Input: 1,797 rows of 64 pixel values (0..16, row-major 8x8) and a label 0..9 (the copy of the
UCI "Optical Recognition of Handwritten Digits" test set that scikit-learn ships). The split
is stratified: in each class, a seeded permutation sends round(n_class * 500 / 1797) images to
the held-out split and the rest to the training split, both kept in the original row order.

Writes:
  exercises/cnn-classifier/digits_train.csv.gz        1,297 rows, for candidates
  solutions/cnn-classifier/data/digits_heldout.csv.gz   500 rows, never shipped
  solutions/cnn-classifier/data/digits.csv.gz         the full input, unchanged

The hidden checks rebuild the training split as "the full file minus the held-out rows"
(`training_rows` below, copied into test_hidden.py): a byte-identical copy of the training
file under solutions/ would make `torchdrill kit` report it as a leak.
"""

import collections
import gzip
import io
import shutil
import sys
from pathlib import Path

import numpy as np

SEED = 20240611
HELDOUT_TOTAL = 500
HERE = Path(__file__).resolve().parent.parent      # solutions/cnn-classifier/
TRAIN_OUT = HERE.parent.parent / "exercises" / "cnn-classifier" / "digits_train.csv.gz"
HELDOUT_OUT = HERE / "data" / "digits_heldout.csv.gz"
FULL_OUT = HERE / "data" / "digits.csv.gz"


def read_rows(data: bytes) -> np.ndarray:
    text = gzip.decompress(data).decode("ascii")
    return np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)


def training_rows(full: np.ndarray, heldout: np.ndarray) -> np.ndarray:
    """The rows of `full` that are not in `heldout` (as a multiset), in their original order."""
    left = collections.Counter(map(tuple, heldout.tolist()))
    keep = []
    for row in full.tolist():
        if left[tuple(row)] > 0:
            left[tuple(row)] -= 1
        else:
            keep.append(row)
    return np.array(keep, dtype=np.int64)


def write_csv_gz(rows: np.ndarray, path: Path) -> None:
    text = "\n".join(",".join(str(int(v)) for v in row) for row in rows) + "\n"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:  # mtime=0: reproducible
        gz.write(text.encode("ascii"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def main(source: str) -> None:
    rows = read_rows(Path(source).read_bytes())                  # (1797, 65)
    labels = rows[:, 64]
    rng = np.random.default_rng(SEED)
    heldout = np.zeros(len(rows), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        take = round(len(idx) * HELDOUT_TOTAL / len(rows))
        heldout[rng.permutation(idx)[:take]] = True
    write_csv_gz(rows[~heldout], TRAIN_OUT)
    write_csv_gz(rows[heldout], HELDOUT_OUT)
    if Path(source).resolve() != FULL_OUT.resolve():
        shutil.copyfile(source, FULL_OUT)
    rebuilt = training_rows(rows, rows[heldout])                 # what the hidden checks do
    assert np.array_equal(rebuilt, read_rows(TRAIN_OUT.read_bytes()))
    print(f"train {int((~heldout).sum())} rows, held-out {int(heldout.sum())} rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__))
