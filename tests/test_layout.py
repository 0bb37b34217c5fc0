"""The house: slotnp/core (the plain engine), slots (the method), fast (the twins) and run (what
surrounds a run); imports point one way, core <- slots <- fast, with run on top, and none goes
round in a cycle."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "slotnp")
FOLDERS = ("core", "slots", "fast", "run")
# what each folder may import from slotnp: the folders below it
ALLOWED = {"core": {"core"}, "slots": {"core", "slots"}, "fast": {"core", "slots", "fast"},
           "run": {"core", "slots", "fast", "run"}}


def modules():
    """{module name: path} of every module in slotnp/ (packages by their __init__)."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


def imports_of(name, path, known):
    """The slotnp modules that module `name` imports (at any depth of its code)."""
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] +
                                ([base] if base else []))
            # `from base import a`: module base.a where it is one, else a name of base's own
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def folder_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FOLDERS else None


def test_every_module_sits_in_one_of_the_four_folders():
    loose = [m for m in modules() if m != "slotnp" and folder_of(m) is None]
    assert loose == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_imports_point_one_way(folder):
    known = modules()
    wrong = [(m, i) for m, path in known.items() if folder_of(m) == folder
             for i in imports_of(m, path, known)
             # the package itself (slotnp/__init__.py) re-exports slots' nets: a module names
             # the folder it takes a piece from, so that this check sees where it comes from
             if i == "slotnp" or folder_of(i) is not None and folder_of(i) not in ALLOWED[folder]]
    assert wrong == []


def test_no_import_cycle():
    known = modules()
    graph = {m: {i for i in imports_of(m, p, known) if i != "slotnp"} for m, p in known.items()}
    # a package imports its own modules in __init__; edges from a module up to its package
    # (import of the package name) are not cycles of code, so the package nodes stay out
    graph = {m: {i for i in deps if not m.startswith(i + ".")} for m, deps in graph.items()}
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"
    for module in graph:
        if module not in state:
            visit(module, [module])
