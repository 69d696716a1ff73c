"""Hints one at a time: which hint comes next, and the text `torchdrill hint` prints."""

from __future__ import annotations

# --- choosing ---------------------------------------------------------------------------------


def next_hint(exercise_hints: list[str], seen: list[int]) -> tuple[int, str, int] | None:
    """(0-based index, text, how many unseen remain after it) of the first unseen hint, or None.

    Hints go in exercise.toml order because each one gives away more than the one before.
    Indices in `seen` beyond the list (a hint removed since) are ignored.
    """
    seen_set = set(seen)
    unseen = [i for i in range(len(exercise_hints)) if i not in seen_set]
    if not unseen:
        return None
    index = unseen[0]
    return index, exercise_hints[index], len(unseen) - 1


# --- formatting -------------------------------------------------------------------------------


def format_hint(slug: str, exercise_hints: list[str], picked: tuple[int, str, int] | None) -> str:
    """What `torchdrill hint SLUG` prints for next_hint()'s answer `picked`."""
    total = len(exercise_hints)
    if total == 0:
        return f"{slug} has no hints; `torchdrill show {slug}` repeats the prompt."
    if picked is None:
        # Say what to do next rather than printing nothing: the hints are still there.
        return (f"All {_count(total, 'hint')} for {slug} already seen; "
                f"`torchdrill hint {slug} --all` shows them again.")
    index, text, remaining = picked
    head = f"Hint {index + 1} of {total} for {slug}:\n{text}\n"
    if remaining == 0:
        return head + f"(that was the last one; `torchdrill hint {slug} --all` shows them all)"
    return head + f"({remaining} more: run `torchdrill hint {slug}` again, or --all)"


def format_all_hints(slug: str, exercise_hints: list[str]) -> str:
    """What `torchdrill hint SLUG --all` prints: every hint, numbered."""
    if not exercise_hints:
        return format_hint(slug, exercise_hints, None)
    total = len(exercise_hints)
    return "\n\n".join(f"Hint {i} of {total} for {slug}:\n{text}"
                       for i, text in enumerate(exercise_hints, 1))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
