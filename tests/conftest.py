"""Test-wide settings and fixtures: Qt draws offscreen, so the suite needs no screen."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.corpus import build_corpus, deny_reading


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The generated bad-input corpus (tests/corpus.py), by case name."""
    return build_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def case(request, corpus, monkeypatch):
    """One corpus case, chosen by indirect parametrisation; unreadable means unreadable."""
    chosen = corpus[request.param]
    deny_reading(monkeypatch, chosen)
    return chosen


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    """Run ``kernelstudio`` in-process from an empty ``tmp_path``: (status, stdout, stderr)."""
    from kernelstudio.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args):
        code = main([str(arg) for arg in args])
        return (code, *capsys.readouterr())

    return run
