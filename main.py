"""Pretext entry point: no arguments opens the workbench; a subcommand runs headless."""
import sys


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] not in ("--home",):
        from engine.cli.commands import main as cli_main

        return cli_main(sys.argv[1:])
    from pathlib import Path

    from engine.runs.paths import default_home

    home = Path(sys.argv[2]).expanduser() if len(sys.argv) > 2 else default_home()
    try:
        from app.main import display_available, run
    except ImportError as e:
        print(f"error: the workbench cannot start ({e}); run headless with: python main.py train --help",
              file=sys.stderr)
        return 2
    if not display_available():
        print("error: no display found; run headless with: python main.py train --help "
              "(or set QT_QPA_PLATFORM=offscreen)", file=sys.stderr)
        return 2
    return run(home)


if __name__ == "__main__":
    sys.exit(main())
