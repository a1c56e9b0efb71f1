"""Writing output files safely: never over a file omp reads, never half-written.

``refuse_clobber`` stops ``--rejects`` or ``--output`` from pointing at the
import's input file or the historian (a user typo that would destroy data).
``replacing`` writes to a scratch file beside the target and renames it over
the target only when the whole write succeeded, so a failure part-way leaves
the old file (or no file), never a truncated one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from omp.core.errors import OmpError


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (same resolved path, or same inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: they cannot be one file
        return False


def refuse_clobber(target: Path, *, option: str, protected: Mapping[str, Path]) -> None:
    """``OmpError`` when ``target`` is one of ``protected`` (what -> path), naming both.

    >>> refuse_clobber(Path("out.csv"), option="--output", protected={})
    """
    for what, path in protected.items():
        if same_file(target, path):
            raise OmpError(
                f"{option} {target} is {what} ({path}); writing there would destroy it: "
                "choose another file name"
            )


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A scratch path beside ``target``; renamed over ``target`` if the block succeeds.

    The block writes the scratch file (or leaves it absent, and then ``target``
    is left alone). On any exception the scratch file is removed and ``target``
    is untouched. ``OmpError`` names ``target`` when the directory is unusable.
    """
    directory = target.parent if str(target.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise OmpError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(handle)
    scratch = Path(name)
    scratch.unlink()  # the writer creates it; absent means "nothing was written"
    try:
        yield scratch
        if scratch.exists():
            _rename(scratch, target)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


def _rename(scratch: Path, target: Path) -> None:
    try:
        os.replace(scratch, target)
    except OSError as exc:
        raise OmpError(f"cannot write {target}: {exc.strerror or exc}") from None
