"""Mapping engine in plain Python (no ORM): compile a mapping version once, run it fast.

``compile_mapping(lines, direction, payload_format, namespaces, context)`` returns a callable
``payload -> MappingResult(values, errors, trace)``. ``context`` gives what needs the ORM as
plain callables (``value_map(table, code)``, ``resolve(kind, model, key, params)``,
``evaluate(expression, names)``), so the engine never imports Odoo. Errors are collected per
line (``LineError``), never raised one at a time.
"""

from .cache import MappingCache
from .engine import CompileError, LineError, MappingContext, MappingResult, compile_mapping

__all__ = ["CompileError", "LineError", "MappingCache", "MappingContext", "MappingResult", "compile_mapping"]
