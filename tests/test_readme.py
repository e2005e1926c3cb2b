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
