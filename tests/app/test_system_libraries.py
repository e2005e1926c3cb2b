"""A machine missing a library of Qt's X11 plugin gets one sentence naming it, not Qt's abort."""
from app import main as app_main
from app import system_libraries

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
\tlibxcb-icccm.so.4 => not found
"""


def test_ldd_output_gives_each_missing_library_once():
    assert system_libraries.missing_libraries(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert system_libraries.missing_libraries("\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)\n") == []


def test_the_message_names_the_libraries_and_the_packages():
    msg = system_libraries.missing_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1 are missing" in msg
    assert msg.endswith("sudo apt-get install libxcb-icccm4 libxcb-keysyms1")
    assert "\n" not in msg


def test_run_refuses_with_one_sentence_when_a_library_is_missing(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(system_libraries, "uses_xcb", lambda: True)
    monkeypatch.setattr(system_libraries, "missing_for_xcb", lambda: ["libxcb-keysyms.so.1"])
    assert app_main.run(tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "libxcb-keysyms.so.1 is missing" in err and "libxcb-keysyms1" in err


def test_offscreen_does_not_ask_for_x11_libraries(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert not system_libraries.uses_xcb()
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert system_libraries.uses_xcb()


def test_the_package_map_covers_the_readme_list():
    from tests.test_readme import _qt_packages

    assert set(system_libraries.PACKAGE_OF.values()) >= set(_qt_packages())
