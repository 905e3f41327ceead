"""`python -m monitor` and the `monitor` script.

`monitor diff` goes to `monitor.diff_cli` before typer is imported (typer imports
pydantic: ~150 ms of the ~300 ms the command otherwise spent starting), and leaves
without the interpreter's teardown (a last garbage collection and freeing the ~200,000
objects of two big inputs one by one, tens of ms); every other command goes to the
typer app of `monitor.cli`.
"""

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["diff"]:
        from monitor.diff_cli import run

        code = run(sys.argv[2:], own_process=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    from monitor.cli import run

    run()


if __name__ == "__main__":
    main()
