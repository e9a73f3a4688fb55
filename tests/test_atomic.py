"""Atomic writes leave either the new file or the old one, never a mix."""

import errno
import os
import stat

import pytest

from kernelstudio.atomic import NotARegularFileError, publish, write_atomically


def test_writes_new_file_with_umask_permissions(tmp_path):
    target = tmp_path / "out.bin"
    write_atomically(target, b"hello")
    assert target.read_bytes() == b"hello"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_replaces_existing_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_keeps_old_file_and_removes_temporary(tmp_path, monkeypatch, failing):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "missing" / "out.bin", b"x")


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_replacing_keeps_the_old_file_mode(tmp_path):
    target = tmp_path / "secret.bin"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomically(target, b"new")
    assert (target.read_bytes(), mode_of(target)) == (b"new", 0o600)


def test_replacing_drops_set_user_id(tmp_path):
    target = tmp_path / "tool.bin"
    target.write_bytes(b"old")
    target.chmod(0o4750)
    write_atomically(target, b"new")
    assert mode_of(target) == 0o750


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_root_keeps_the_owner_of_the_replaced_file(tmp_path):
    target = tmp_path / "theirs.bin"
    target.write_bytes(b"old")
    os.chown(target, 4321, 4321)
    write_atomically(target, b"new")
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4321)


def test_an_owner_that_cannot_be_kept_is_not_an_error(tmp_path, monkeypatch):
    target = tmp_path / "theirs.bin"
    target.write_bytes(b"old")
    real_stat = os.stat

    def owned_by_someone_else(path, *args, **kwargs):
        status = real_stat(path, *args, **kwargs)
        if os.fspath(path) != os.fspath(target):
            return status
        fields = list(status)
        fields[stat.ST_UID] += 1
        return os.stat_result(fields)

    def denied(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "stat", owned_by_someone_else)
    monkeypatch.setattr(os, "chown", denied)
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"


def special_files(tmp_path):
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    to_null = tmp_path / "null.png"
    to_null.symlink_to(os.devnull)
    dangling = tmp_path / "dangling.png"
    dangling.symlink_to(tmp_path / "nowhere")
    return {"fifo": fifo, "device": to_null, "dangling": dangling}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "device", "dangling"])
@pytest.mark.parametrize("overwrite", [True, False])
def test_refuses_targets_that_are_not_regular_files(tmp_path, kind, overwrite):
    target = special_files(tmp_path)[kind]
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(NotARegularFileError, match="it is"):
        write_atomically(target, b"data", overwrite=overwrite)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert os.path.islink(target) or stat.S_ISFIFO(os.lstat(target).st_mode)


def test_refuses_a_folder(tmp_path):
    (tmp_path / "out.png").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomically(tmp_path / "out.png", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_without_overwrite_a_new_file_gets_the_umask_mode(tmp_path):
    target = tmp_path / "new.bin"
    write_atomically(target, b"fresh", overwrite=False)
    umask = os.umask(0)
    os.umask(umask)
    assert (target.read_bytes(), mode_of(target)) == (b"fresh", 0o666 & ~umask)
    assert [p.name for p in tmp_path.iterdir()] == ["new.bin"]


def test_without_overwrite_an_existing_file_is_refused_before_writing(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    monkeypatch.setattr(os, "write", pytest.fail)
    with pytest.raises(FileExistsError):
        write_atomically(target, b"new", overwrite=False)
    assert target.read_bytes() == b"precious"


def appear_during_fsync(monkeypatch, target):
    real_fsync = os.fsync

    def fsync_while_another_program_writes(descriptor):
        target.write_bytes(b"appeared")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync_while_another_program_writes)


@pytest.mark.parametrize("hard_links", [True, False], ids=["link", "no-hard-links"])
def test_without_overwrite_a_file_that_appears_meanwhile_is_kept(
    tmp_path, monkeypatch, hard_links
):
    target = tmp_path / "out.bin"
    appear_during_fsync(monkeypatch, target)
    if not hard_links:
        monkeypatch.setattr(os, "link", unsupported_link)
    with pytest.raises(FileExistsError):
        write_atomically(target, b"mine", overwrite=False)
    assert target.read_bytes() == b"appeared"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def unsupported_link(source, target):
    raise OSError(errno.EPERM, "Operation not permitted")


def test_without_hard_links_a_new_file_is_still_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "link", unsupported_link)
    target = tmp_path / "out.bin"
    write_atomically(target, b"complete", overwrite=False)
    assert target.read_bytes() == b"complete"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_publish_without_overwrite_keeps_the_temporary_file_on_a_clash(tmp_path):
    temporary, target = tmp_path / "t.tmp", tmp_path / "out.bin"
    temporary.write_bytes(b"mine")
    target.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        publish(temporary, target, overwrite=False)
    assert (temporary.read_bytes(), target.read_bytes()) == (b"mine", b"theirs")


def test_a_name_near_the_length_limit_can_be_written(tmp_path):
    target = tmp_path / ("n" * 250 + ".png")
    write_atomically(target, b"long name")
    assert target.read_bytes() == b"long name"
