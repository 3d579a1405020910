"""The one optional progress bar of the kit (tqdm.auto: a widget in Jupyter, text in a terminal)."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")

__all__ = ["NullBar", "progress_bar", "progress_iter"]


class NullBar:
    """Stands in for a tqdm bar when no bar is shown (same ``update``/``set_postfix``/``close`` calls)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "NullBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress_bar(total: int, desc: str, *, show: bool = True, unit: str = "it", leave: bool = True) -> Any:
    """A tqdm bar (usable as a context manager), or a :class:`NullBar` when ``show`` is false."""
    if not show:
        return NullBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=leave)


def progress_iter(items: Iterable[T], desc: str, *, show: bool = True, total: "int | None" = None,
                  unit: str = "it", leave: bool = True) -> Iterator[T]:
    """``items`` wrapped in a tqdm bar when ``show`` is true, else unchanged."""
    if not show:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=desc, total=total, unit=unit, leave=leave)
