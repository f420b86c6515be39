"""The house rules of docs/architecture.md, read from the code: imports run down the layers,
never in a circle, and a long file says why it is long.

Every `import` and `from ... import` in symdl/ counts, those inside functions too: a lazy
import is still a dependency, only a later one.
"""

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

LAYERS = [
    ("foundation", ["symdl.version", "symdl.errors", "symdl.threads", "symdl.interrupts",
                    "symdl.documents", "symdl.prose", "symdl.stamps", "symdl.validate",
                    "symdl.datasets", "symdl.optimizers"]),
    ("language", ["symdl.functions", "symdl.model"]),
    ("derive", ["symdl.derive"]),
    ("render", ["symdl.render", "symdl.notation"]),
    ("sources", ["symdl.sources"]),
    ("generate", ["symdl.generate", "symdl.generate.*"]),
    ("kernels", ["symdl.kernels"]),
    ("training", ["symdl.training", "symdl.training.*"]),
    ("saved", ["symdl.saved"]),
    ("callbacks", ["symdl.callbacks"]),
    ("train", ["symdl.stores", "symdl.chunked", "symdl.train", "symdl.datafiles",
               "symdl.one_vs_rest"]),
    ("check", ["symdl.check", "symdl.scale"]),
    ("front ends", ["symdl.sklearn", "symdl.plot", "symdl.report", "symdl.testing", "symdl.cli",
                    "symdl.__main__", "symdl"]),
]
"""Bottom to top: a module may import from its own layer and the layers below it."""

LONG = 400
"""A file longer than this many lines says why at its top, in a line starting 'Long because'."""


def module_files() -> dict[str, Path]:
    """Every module of the symdl package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((ROOT / "symdl").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = module_files()


def layer_of(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member or (member.endswith(".*") and module.startswith(member[:-1])):
                return index
    raise KeyError(module)


def imported_modules(path: Path, known) -> set[str]:
    """The symdl modules a file imports, anywhere in it.

    `from symdl import train` imports the module symdl.train (and runs symdl/__init__, which
    is the front door and counted only when a name defined there is imported).
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in known:
                    found.add(submodule)
                elif node.module in known:
                    found.add(node.module)
    return found


GRAPH = {name: imported_modules(path, MODULES) - {name} for name, path in MODULES.items()}


def test_every_module_has_a_layer():
    unplaced = []
    for name in MODULES:
        try:
            layer_of(name)
        except KeyError:
            unplaced.append(name)
    assert not unplaced, f"add these to a layer in tests/test_architecture.py and " \
                         f"docs/architecture.md: {unplaced}"


def test_imports_run_down_the_layers():
    upward = [f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} "
              f"({LAYERS[layer_of(target)][0]})"
              for source, targets in GRAPH.items() for target in sorted(targets)
              if layer_of(target) > layer_of(source)]
    assert not upward, "\n".join(upward)


def find_cycle(graph) -> list[str] | None:
    """One import cycle of `graph` as [a, b, ..., a], or None (depth-first search)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, " → ".join(cycle)


def test_the_checks_themselves_catch_what_they_look_for():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("symdl.train") > layer_of("symdl.training.engine") > layer_of("symdl.kernels")
    assert imported_modules(MODULES["symdl.kernels"], MODULES) >= {"symdl.sources", "symdl.stamps"}


def test_derivations_stand_below_check_and_generated_kernels_alone():
    """A derivation file (symdl's or a user's) is written in the language and may train its
    model to state a claim, but is checked by symdl.check and loaded by symdl.sources: it
    imports nothing from `check` or the front ends. A generated file needs NumPy, Numba and
    math only."""
    highest = layer_of("symdl.train")
    for path in sorted((ROOT / "derivations").glob("*.py")):
        above = sorted(m for m in imported_modules(path, MODULES) if layer_of(m) > highest)
        assert not above, f"derivations/{path.name} imports {above}"
    for path in sorted((ROOT / "generated").glob("*.py")):
        assert not imported_modules(path, MODULES), f"generated/{path.name} imports symdl"


def test_long_files_say_why():
    unexplained = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > LONG and "Long because" not in docstring:
            unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, f"over {LONG} lines with no 'Long because ...' in the docstring: " \
                            f"{unexplained}"
