"""The README's two commands stay true: CI runs the README's test command verbatim."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1].strip()
    readme = (ROOT / "README.md").read_text()
    assert ci in readme, f"README must show the command CI runs: {ci}"


def test_readme_opens_with_install_and_start():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "python main.py" in head and 'pip install -q -e ".[test]"' in head


def _qt_packages() -> list[str]:
    lines = (ROOT / "resources" / "qt-system-packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_readme_names_the_qt_system_packages_ci_installs():
    readme = (ROOT / "README.md").read_text()[:1500]
    install = next(line for line in readme.splitlines() if line.startswith("sudo apt-get install"))
    assert install.split("#")[0].split()[4:] == _qt_packages()
    assert "resources/qt-system-packages.txt" in (ROOT / ".ci" / "run").read_text()
