"""The book's execution cache is emptied when course_nn changes (docs/book.md)."""

from __future__ import annotations

from pathlib import Path

from course_nn import book_cache


def _package(root: Path) -> Path:
    pkg = root / "pkg"
    (pkg / "sub" / "__pycache__").mkdir(parents=True)
    (pkg / "linear.py").write_text("RATE = 0.1\n")
    (pkg / "sub" / "data.csv").write_text("1,2\n")
    (pkg / "sub" / "__pycache__" / "linear.cpython-311.pyc").write_bytes(b"\0")
    return pkg


def _cache(root: Path) -> Path:
    cache = root / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "global.db").write_text("old results")
    return cache


def test_fingerprint_covers_sources_and_data_not_bytecode(tmp_path):
    pkg = _package(tmp_path)
    assert [p.name for p in book_cache.package_files(pkg)] == ["linear.py", "data.csv"]
    first = book_cache.fingerprint(pkg)
    (pkg / "sub" / "__pycache__" / "linear.cpython-311.pyc").write_bytes(b"\1")
    assert book_cache.fingerprint(pkg) == first
    (pkg / "sub" / "data.csv").write_text("1,3\n")
    assert book_cache.fingerprint(pkg) != first
    (pkg / "sub" / "data.csv").rename(pkg / "data.csv")  # same bytes, another path
    assert len({first, book_cache.fingerprint(pkg)}) == 2


def test_cache_is_kept_while_the_package_is_unchanged_and_emptied_after_a_change(tmp_path):
    pkg, cache = _package(tmp_path), _cache(tmp_path)
    assert book_cache.refresh(cache, pkg) is True  # unknown origin: emptied once
    assert not cache.exists()
    assert book_cache.stamp_path(cache).read_text().strip() == book_cache.fingerprint(pkg)
    cache = _cache(tmp_path)
    assert book_cache.refresh(cache, pkg) is False
    assert (cache / "global.db").read_text() == "old results"
    (pkg / "linear.py").write_text("RATE = 0.2\n")
    assert book_cache.refresh(cache, pkg) is True
    assert not cache.exists()
    assert book_cache.refresh(cache, pkg) is False  # nothing to empty, stamp current


def test_command_line(tmp_path, capsys):
    cache = _cache(tmp_path)
    assert book_cache.main([str(cache)]) == 0
    assert "executes again" in capsys.readouterr().out and not cache.exists()
    assert book_cache.main([]) == 2
