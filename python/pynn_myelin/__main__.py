"""Run a PyNN script unchanged on Myelin:

    python3 -m pynn_myelin SCRIPT.py myelin [ARGS...]

Scripts that pick their simulator with pyNN.utility.get_simulator() (as
PyNN's own examples do) import pyNN.<name>; this makes pyNN.myelin an alias
of pynn_myelin and runs the script as __main__."""

import runpy
import sys

import pyNN

import pynn_myelin


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    sys.modules["pyNN.myelin"] = pynn_myelin
    pyNN.myelin = pynn_myelin
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
