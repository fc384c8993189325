"""The ``psychrnn-widgets`` console command: serve the dashboard with Voilà.

``psychrnn-widgets`` serves the dashboard notebook that ships with the package on
http://127.0.0.1:8866/ and opens it in the default browser. Options that Voilà or Jupyter Server
understand in ``--Class.trait=value`` form are passed on unchanged.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from psychrnn_widgets.app.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    KERNEL_ENVIRONMENT,
    dashboard_notebook,
    voila_arguments,
)

__all__ = ["main", "build_parser", "prepare", "CommandLineError"]

# Matches traitlets options such as --MappingKernelManager.cull_idle_timeout=30.
_TRAIT_OPTION = re.compile(r"^--[A-Za-z_]\w*\.[A-Za-z_]\w*=.*$")

EXIT_USAGE = 2


class CommandLineError(Exception):
    """A problem with the command line or the machine that stops the server from starting."""


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``psychrnn-widgets``."""
    parser = argparse.ArgumentParser(
        prog="psychrnn-widgets",
        description=(
            "Serve the psychrnn_widgets dashboard with Voilà. Any --Class.trait=value option is "
            "passed on to Voilà, e.g. --MappingKernelManager.cull_idle_timeout=300."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port to listen on (default {DEFAULT_PORT}).",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=(
            f"Address to listen on (default {DEFAULT_HOST}, this machine only). Another address "
            "makes the dashboard reachable from other machines, without a password."
        ),
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="Do not open the page in a web browser.",
    )
    parser.add_argument(
        "--notebook",
        type=Path,
        default=None,
        help="Notebook to serve instead of the packaged dashboard.",
    )
    parser.add_argument(
        "--no-preheat",
        action="store_true",
        help=(
            "Do not keep a kernel that has already run the notebook ready for the next visitor "
            "(saves one kernel's memory, about 0.6 GB; the first page then loads more slowly)."
        ),
    )
    return parser


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise CommandLineError(f"--port must be between 1 and 65535 (got {port})")


def _check_notebook(path: Path) -> Path:
    if not path.is_file():
        raise CommandLineError(f"notebook not found: {path}")
    if path.suffix != ".ipynb":
        raise CommandLineError(f"--notebook must be a .ipynb file (got {path})")
    return path.resolve()


def _check_host_and_port_free(host: str, port: int) -> None:
    """Bind the address once so that a taken port fails here with a clear message.

    Voilà, started with ``port_retries=0``, also stops on a taken port, but only after it has
    logged a long start-up. Another process can still take the port between this check and
    Voilà's bind; Voilà then exits with its own error.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise CommandLineError(f"cannot use --host {host}: {error.strerror}") from None

    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        # Voilà (Tornado) sets SO_REUSEADDR too, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandLineError(
                    f"port {port} on {host} is already in use; choose another with --port"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL:
                raise CommandLineError(
                    f"cannot listen on {host}: it is not an address of this machine"
                ) from None
            if error.errno == errno.EACCES:
                raise CommandLineError(
                    f"permission denied to listen on port {port}; choose a port above 1023"
                ) from None
            raise CommandLineError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _page_url(host: str, port: int) -> str:
    # An IPv6 address goes in brackets in a URL.
    host_in_url = f"[{host}]" if ":" in host else host
    return f"http://{host_in_url}:{port}/"


def prepare(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """Check the command line; return the parsed options and the arguments to start Voilà with.

    Raises
    ------
    CommandLineError
        When an option is invalid, the notebook is missing or the port is taken.
    """
    parser = build_parser()
    options, rest = parser.parse_known_args(argv)
    unknown = [argument for argument in rest if not _TRAIT_OPTION.match(argument)]
    if unknown:
        raise CommandLineError(f"unrecognized arguments: {' '.join(unknown)}")

    _check_port(options.port)
    notebook = _check_notebook(options.notebook or dashboard_notebook())
    _check_host_and_port_free(options.host, options.port)

    arguments = voila_arguments(
        notebook,
        host=options.host,
        port=options.port,
        open_browser=not options.no_browser,
        preheat=not options.no_preheat,
    )
    # Traitlets rejects an option given twice, so a passed-on option replaces the default.
    overridden = {argument.split("=", 1)[0] for argument in rest}
    defaults = [argument for argument in arguments if argument.split("=", 1)[0] not in overridden]
    return options, defaults + list(rest)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``psychrnn-widgets``; return the exit status (2 for a usage error)."""
    try:
        options, voila_argv = prepare(argv)
    except CommandLineError as error:
        print(f"psychrnn-widgets: error: {error}", file=sys.stderr)
        return EXIT_USAGE

    if not _is_loopback(options.host):
        print(
            f"psychrnn-widgets: warning: listening on {options.host}, so other machines can open "
            "the dashboard and run training on this one. There is no password.",
            file=sys.stderr,
        )
    for name, value in KERNEL_ENVIRONMENT.items():
        os.environ.setdefault(name, value)

    print(f"Serving the dashboard at {_page_url(options.host, options.port)}", flush=True)
    print("Press Ctrl+C to stop the server.", flush=True)

    # Imported here so that --help and usage errors do not wait for Jupyter Server to load.
    from voila.app import Voila

    Voila.launch_instance(argv=voila_argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
