"""Desktop integration and the double-clickable bundle."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import tomllib
from PIL import Image

import kernelstudio

ROOT = Path(kernelstudio.__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP_FILE = PACKAGING / "kernelstudio.desktop"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def desktop_entries(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def validate(path):
    validator = shutil.which("desktop-file-validate")
    assert validator, "packaging/setup.sh installs desktop-file-utils"
    completed = subprocess.run([validator, str(path)], capture_output=True, text=True)
    errors = [line for line in completed.stdout.splitlines() if "error:" in line]
    assert completed.returncode == 0, completed.stdout
    assert errors == []


def test_desktop_file_is_valid_and_opens_images():
    validate(DESKTOP_FILE)
    entries = desktop_entries(DESKTOP_FILE)
    assert entries["Exec"] == "kernelstudio %f"
    assert entries["Icon"] == "kernelstudio"
    mime_types = set(entries["MimeType"].strip(";").split(";"))
    assert {"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/webp"} <= mime_types


def test_icons_exist_in_every_hicolor_size():
    for size in ICON_SIZES:
        path = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "kernelstudio.png"
        with Image.open(path) as icon:
            assert icon.size == (size, size)
            assert icon.mode == "RGBA"
    with Image.open(PACKAGING / "icons" / "kernelstudio.ico") as ico:
        assert (256, 256) in ico.info["sizes"]
        assert (16, 16) in ico.info["sizes"]
    with Image.open(PACKAGING / "icons" / "kernelstudio.icns") as icns:
        assert icns.size[0] >= 256


@pytest.fixture
def fake_program(tmp_path):
    program = tmp_path / "bin dir" / "kernelstudio"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    return program


def test_install_script_adds_menu_entry_and_icons_for_the_user(tmp_path, fake_program):
    data = tmp_path / "share"
    environment = dict(os.environ, XDG_DATA_HOME=str(data))
    script = PACKAGING / "install-desktop.sh"
    subprocess.run(["bash", str(script), str(fake_program)], check=True, env=environment)
    installed = data / "applications" / "kernelstudio.desktop"
    validate(installed)
    entries = desktop_entries(installed)
    assert entries["Exec"] == f'"{fake_program}" %f'
    assert entries["TryExec"] == str(fake_program)
    assert (data / "icons/hicolor/scalable/apps/kernelstudio.svg").is_file()
    for size in ICON_SIZES:
        assert (data / f"icons/hicolor/{size}x{size}/apps/kernelstudio.png").is_file()
    subprocess.run(["bash", str(script), "--uninstall"], check=True, env=environment)
    assert not installed.exists()
    assert not list(data.glob("icons/hicolor/*/apps/kernelstudio.*"))


def test_install_script_refuses_a_missing_program(tmp_path):
    environment = dict(os.environ, XDG_DATA_HOME=str(tmp_path))
    completed = subprocess.run(
        ["bash", str(PACKAGING / "install-desktop.sh"), str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert completed.returncode == 1
    assert "not an executable program" in completed.stderr
    assert not (tmp_path / "applications").exists()


def test_entry_points_start_the_same_command():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["kernelstudio"] == "kernelstudio.cli:main"
    assert project["gui-scripts"]["kernelstudio-gui"] == "kernelstudio.cli:main"


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version(flag):
    completed = subprocess.run(
        [sys.executable, "-m", "kernelstudio", flag], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert completed.stderr == ""
    expected = f"kernelstudio {kernelstudio.__version__}" if flag == "--version" else "[IMAGE]"
    assert expected in completed.stdout


def test_unknown_window_option_is_a_usage_error():
    completed = subprocess.run(
        [sys.executable, "-m", "kernelstudio", "--bogus"], capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert len(completed.stderr.splitlines()) == 1
    assert "--bogus" in completed.stderr


def test_window_smoke_from_the_installed_package(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "kernelstudio", "--quit-after-first-result"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path)),
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("first result painted after")


def test_wheel_carries_the_resources(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("kernelstudio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for resource in ("coffee.png", "astronaut.png", "icon.svg"):
        assert f"kernelstudio/resources/{resource}" in names


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """Build the PyInstaller one-folder bundle once for the bundle tests."""
    folder = tmp_path_factory.mktemp("bundle")
    subprocess.run(
        ["bash", str(PACKAGING / "build-bundle.sh"), str(folder / "dist"), str(folder / "work")],
        check=True,
        capture_output=True,
        env=dict(os.environ, PYTHON=sys.executable),
        timeout=1200,
    )
    program = folder / "dist" / "kernelstudio" / "kernelstudio"
    assert program.is_file()
    return program


def bare_environment(home):
    """What a machine without Python offers the bundle: no venv, no PYTHON* variables."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
    }


@pytest.mark.slow
def test_bundle_opens_the_window_on_the_sample(bundle, tmp_path):
    completed = subprocess.run(
        [str(bundle), "--quit-after-first-result"],
        capture_output=True,
        text=True,
        timeout=120,
        env=bare_environment(tmp_path),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("first result painted after")


@pytest.mark.slow
def test_bundle_runs_the_command_line(bundle, tmp_path):
    environment = bare_environment(tmp_path)
    version = subprocess.run(
        [str(bundle), "--version"], capture_output=True, text=True, env=environment
    )
    assert version.stdout.strip() == f"kernelstudio {kernelstudio.__version__}"
    output = tmp_path / "identity.png"
    subprocess.run(
        [str(bundle), "apply", "-k", "identity", "-o", str(output)],
        check=True,
        capture_output=True,
        env=environment,
        cwd=tmp_path,
    )
    expected = cv2.imread(str(ROOT / "resources" / "coffee.png"))
    np.testing.assert_array_equal(cv2.imread(str(output)), expected)
