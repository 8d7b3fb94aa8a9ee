"""The import structure: layers without back-edges, modules without cycles.

Every ``import`` and ``from ... import`` in the product's packages is read from the source
(lazy imports inside functions and ``TYPE_CHECKING`` blocks included), resolved to the
module it loads, and checked against the layering of DESIGN.md section 4.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

#: Bottom to top; a package may import only packages of a lower rank (and itself).
RANKS = {
    "vocabulary": 0,
    "synthetic": 1,
    "models": 1,
    "expectations": 1,
    "validation": 2,
    "governance": 3,
    "lineage": 4,
    "flows": 5,
    "cli": 6,
}

#: The rooms of ``governance``, bottom to top (DESIGN.md section 4): a module of a room
#: imports only from its own room or a lower one; the modules directly in ``governance``
#: (``verify``, the what-if) sit on top of every room.
ROOMS = {"ledger": 0, "stores": 1, "trust": 2, "lifecycle": 3, "records": 4, "loader": 5}
TOP_OF_ROOMS = len(ROOMS)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in RANKS:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module ``name`` loads (a package's ``__init__`` for a package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import sub`` loads the submodule when there is one.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        targets |= {t for n in names if n.split(".")[0] in RANKS if (t := _resolve(n))}
    targets.discard(module)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_the_graph_covers_the_product():
    assert {"vocabulary", "governance.stores.handle", "flows.retrain", "cli.app"} <= set(MODULES)
    assert any(GRAPH.values()), "no imports found: the parser is broken"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_or_sibling_layer(module):
    package = module.split(".")[0]
    offending = sorted(
        target
        for target in GRAPH[module]
        if (other := target.split(".")[0]) != package and RANKS[other] >= RANKS[package]
    )
    assert not offending, f"{module} ({package}, rank {RANKS[package]}) imports {offending}"


def _room(module: str) -> int | None:
    """The rank of ``module``'s room in ``governance``, or None outside ``governance``."""
    parts = module.split(".")
    if parts[0] != "governance":
        return None
    if len(parts) > 1 and parts[1] in ROOMS:
        return ROOMS[parts[1]]
    return TOP_OF_ROOMS


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("governance")))
def test_no_governance_room_imports_a_higher_room(module):
    rank = _room(module)
    offending = sorted(
        target for target in GRAPH[module] if (other := _room(target)) is not None and other > rank
    )
    assert not offending, f"{module} (room rank {rank}) imports {offending}"


def test_every_governance_module_is_in_a_room_or_on_top():
    on_top = {m for m in MODULES if m.startswith("governance.") and m.count(".") == 1}
    rooms = {m.split(".")[1] for m in MODULES if m.count(".") >= 2 and m.startswith("governance.")}
    assert rooms == set(ROOMS)
    assert on_top - {f"governance.{r}" for r in ROOMS} == {
        "governance.drift_report",
        "governance.integrity",
        "governance.outcomes_report",
        "governance.what_if",
    }


def test_no_two_product_modules_share_a_file_name_across_governance_and_lineage():
    """Names a newcomer would confuse (two judgement.py, two evidence.py, two intake.py)."""
    names = [m.rsplit(".", 1)[-1] for m in MODULES if m.split(".")[0] in {"governance", "lineage"}]
    names += [m.rsplit(".", 1)[-1] for m in MODULES if m.startswith("validation.intake")]
    repeated = sorted({n for n in names if names.count(n) > 1} - {"__init__"})
    assert repeated == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles_between_modules():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lazy_and_relative_imports_are_seen(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from cli.app import app\n"
        "def later():\n    from flows.retrain import retrain\n"
        "from . import gates\n"
    )
    assert _imports("validation.probe", source) == {"cli.app", "flows.retrain", "validation.gates"}
