"""Built-in plugins. Importing this package registers them; it is the target of the
``pretext.plugins`` entry point ``builtin`` in pyproject.toml, like any third-party package."""
import importlib
import pkgutil

for _pkg in ("datasets", "backbones", "methods"):
    _mod = importlib.import_module(f"{__name__}.{_pkg}")
    for _info in pkgutil.iter_modules(_mod.__path__):
        if not _info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{_pkg}.{_info.name}")
