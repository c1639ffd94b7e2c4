"""The ``hposim`` command installed with the package: the same command line as the Rust
binary (``hposim --help``), run in this process by the extension module."""

import signal
import sys

from . import _hposim


def main() -> None:
    """Runs ``hposim`` with this process's arguments and exits with its status."""
    # Ctrl-C ends the command as it ends the binary (Python would otherwise hold the signal
    # until the command returns); live studies install their own handler, which ends their
    # trials cleanly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_hposim.main(["hposim", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
