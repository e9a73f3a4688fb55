"""Test-wide settings and fixtures: Qt draws offscreen, so the suite needs no screen."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.corpus import build_corpus, deny_reading


@pytest.fixture(autouse=True)
def fresh_user_folders(tmp_path_factory, monkeypatch):
    """Every test starts as a new user: empty config, state, data and cache folders.

    Nothing a test does reaches the developer's own settings, session or log.
    """
    home = tmp_path_factory.mktemp("xdg")
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        folder = home / variable.removeprefix("XDG_").removesuffix("_HOME").lower()
        folder.mkdir()
        monkeypatch.setenv(variable, str(folder))
    return home


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
