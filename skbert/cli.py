"""The ``skbert`` command: list what plugins provide, and run the demo."""

from __future__ import annotations

import argparse
import sys


def _print_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _plugins(args) -> None:
    import skbert

    rows = [
        (
            p.name,
            p.distribution,
            p.version,
            p.status + (f": {p.error}" if p.error else ""),
        )
        for p in skbert.list_plugins()
    ]
    _print_table(rows, ("plugin", "distribution", "version", "status"))


def _encoders(args) -> None:
    import skbert

    rows = [
        (s.name, _count(s.parameters), s.source, s.description)
        for s in skbert.list_encoders()
    ]
    _print_table(rows, ("encoder", "params", "plugin", "description"))


def _count(n: int | None) -> str:
    if not n:
        return "?"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}K"


def _heads(args) -> None:
    import skbert

    rows = [
        (h.name, ",".join(h.tasks), h.source, h.description)
        for h in skbert.list_heads()
    ]
    _print_table(rows, ("head", "tasks", "plugin", "description"))


def _demo(args) -> None:
    from skbert.demo import run_demo

    run_demo()


def main(argv: list[str] | None = None) -> int:
    """Run the ``skbert`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="skbert", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, func, text in [
        ("plugins", _plugins, "list installed plugins and their distributions"),
        ("encoders", _encoders, "list registered encoder presets"),
        ("heads", _heads, "list registered heads"),
        ("demo", _demo, "fit a BertClassifier on example data and report its score"),
    ]:
        commands.add_parser(name, help=text).set_defaults(func=func)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
