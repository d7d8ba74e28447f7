"""An import-linter contract type for `make lint`: no import cycle between the product's modules.

import-linter's own types check layers and forbidden imports; a cycle through two apps (orders.services →
tickets.services → orders.services) slips between them. This one fails on any module that can reach
itself through the imports (migrations left out: they are history and import what they need).
"""

from __future__ import annotations

import grimp
from importlinter import Contract, ContractCheck, fields, output


class NoCyclesContract(Contract):
    """Options: `packages` (the root packages whose modules may not import each other in a circle)."""

    type_name = "no_cycles"

    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        roots = tuple(str(p) for p in self.packages)  # type: ignore[attr-defined]
        modules = sorted(m for m in graph.modules if m.startswith(roots) and ".migrations" not in m)
        cycles: list[list[str]] = []
        seen: set[frozenset[str]] = set()
        for importer in modules:
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported == importer or not imported.startswith(roots) or ".migrations" in imported:
                    continue
                back = graph.find_shortest_chain(importer=imported, imported=importer)
                if back and (key := frozenset(back)) not in seen:
                    seen.add(key)
                    cycles.append([importer, *back])
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(" -> ".join(cycle))
            output.new_line()
