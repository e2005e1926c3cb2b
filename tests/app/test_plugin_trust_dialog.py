"""The GUI asks before a home plugin runs (issue 19, found 4): the loader reports skipped
files, the window shows their paths, and trusting one records its content hash."""
from app.jobs.plugin_loader import PluginLoader
from app.views.plugin_trust_dialog import PluginTrustDialog
from engine.plugin_trust import check, trusted


def test_the_prompt_shows_the_path_and_trusts_the_ticked_file(qtbot, home):
    (home / "plugins").mkdir()
    mine = home / "plugins" / "mine.py"
    mine.write_text("X = 1\n")
    loader = PluginLoader(home)
    with qtbot.waitSignal(loader.untrusted, timeout=120000) as signal:
        loader.start()
    loader.wait(120000)
    assert signal.args[0] == [(str(mine), False)]
    dialog = PluginTrustDialog(home, signal.args[0])
    qtbot.addWidget(dialog)
    assert str(mine) in dialog.boxes[str(mine)].text()
    dialog.boxes[str(mine)].setChecked(True)
    dialog.trust_button.click()
    assert dialog.trusted == [str(mine)] and "mine.py" in trusted(home)
    assert check(home, mine) is None, "it loads from the next start"
