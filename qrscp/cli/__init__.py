"""The ``qrscp`` command: serve, import, convert, check, store, and the find/get/move client.

Each sub-command lives in its own module of this package (``serve``, ``importing``, ``convert``,
``store``, ``client``, ``check``); this module only parses arguments and dispatches. :mod:`qrscp.cli.common` holds the one
configuration-from-arguments that every command uses.
"""

from __future__ import annotations

import argparse
import sys

from qrscp import __version__


def _add_serve(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run the archive (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET)")
    p.add_argument("--config", help="TOML configuration file (default: config/qrscp.toml if present)")
    p.add_argument("--port", type=int, help="TCP port to listen on (default 11112)")
    p.add_argument("--bind", dest="bind_address", help="address to listen on (default 0.0.0.0)")
    p.add_argument("--ae-title", help="AE title of the archive (default QRSCP)")
    p.add_argument("--data-dir", help="directory of the store and SQLite index (default ./qrscp-data)")
    p.add_argument("--database-url", help="SQLAlchemy URL of the index (default: SQLite in the data dir)")
    p.add_argument(
        "--peer", action="append", default=[], metavar="AET=HOST:PORT", help="a C-MOVE destination (repeatable)"
    )
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    p.add_argument("--http-port", type=int, help="DICOMweb and study browser port (default 8080, 0: off)")
    p.add_argument(
        "--workers", type=int, metavar="N", help="worker processes sharing the port (default: one per CPU; 1: one process)"
    )


def _add_import(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="index existing DICOM files or folders into the store")
    p.add_argument("paths", nargs="+", help="files or folders (recursive)")
    p.add_argument("--config")
    p.add_argument("--data-dir")
    p.add_argument("--database-url")


def _add_convert(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="convert classic <-> Legacy Converted Enhanced CT/MR/PET")
    p.add_argument("--to", required=True, choices=["enhanced", "classic"])
    p.add_argument("inputs", nargs="+", help="files or folders (recursive)")
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.add_argument("--secret", help="UID secret (default: [views] uid_secret of the configuration)")
    p.add_argument("--config")


def _add_client(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = subparsers.add_parser(name, help=help_text)
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--view", choices=["classic", "enhanced"], help="negotiate and request this view")
    p.add_argument("--level", default="STUDY", choices=["PATIENT", "STUDY", "SERIES", "IMAGE", "FRAME"])
    p.add_argument("--root", default="study", choices=["patient", "study", "composite"])
    p.add_argument("-k", "--key", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--aet", default="QRSCU", help="our AE title")
    p.add_argument("--aec", default="QRSCP", help="the archive's AE title")
    if name == "move":
        p.add_argument("--dest", required=True, help="move destination AE title")
    if name in ("get", "move"):
        p.add_argument("-o", "--output", default=".", help="where received instances are written")
        # FRAME level (PS3.4 Annex Y): one Frame Range Key; implies --level FRAME --root composite.
        p.add_argument("--frames", metavar="N,N,...", help="Simple Frame List: frame numbers from 1")
        p.add_argument("--frame-range", action="append", default=[], metavar="START-END[/STEP]",
                       help="Calculated Frame List triplet (repeatable; END may be 'end')")
        p.add_argument("--time-range", metavar="START-END", help="Time Range in seconds after Content Time")
    if name == "move":
        p.add_argument("--store-port", type=int, default=0, help="also receive on this port as --dest")


def _add_store(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "store", help="send DICOM files or folders (recursive) as they are, on one association (C-STORE)"
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--aet", default="QRSCU", help="our AE title")
    p.add_argument("--aec", default="QRSCP", help="the receiver's AE title")
    p.add_argument("--timeout", type=float, default=30.0, help="ACSE/DIMSE/network timeout in seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qrscp", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"qrscp {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_serve(subparsers)
    _add_import(subparsers)
    _add_convert(subparsers)
    _add_store(subparsers)
    from qrscp.cli.check import add_check

    add_check(subparsers)
    _add_client(subparsers, "find", "C-FIND against an archive")
    _add_client(subparsers, "get", "C-GET from an archive")
    _add_client(subparsers, "move", "C-MOVE from an archive")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qrscp`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from qrscp.cli.serve import run_serve

        return run_serve(args)
    if args.command == "import":
        from qrscp.cli.importing import run_import

        return run_import(args)
    if args.command == "check":
        from qrscp.startup import UNUSED_BY_CONVERT, defer_imports, single_threaded_blas

        single_threaded_blas()
        defer_imports(UNUSED_BY_CONVERT)
        from qrscp.cli.check import run_check

        return run_check(args)
    if args.command == "store":
        from qrscp.cli.store import run_store

        return run_store(args)
    if args.command == "convert":
        from qrscp.startup import UNUSED_BY_CONVERT, defer_imports, single_threaded_blas

        single_threaded_blas()
        defer_imports(UNUSED_BY_CONVERT)
        from qrscp.cli.convert import run_convert

        return run_convert(args)
    from qrscp.cli.client import run_client

    return run_client(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
