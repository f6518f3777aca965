"""One run of ``learning.py``'s entry on skrl 1.4.3 (torch), in the Python of an environment that has it.

    /path/to/venv-skrl143/bin/python benchmarks/_skrl143_learning.py JOB_JSON

Prints ``[return, transitions/s, transitions]`` (JSON) as its last line. ``learning.py`` builds its agents from
the public API that skrl 1.4.3 shares, so both libraries run the same code and settings.
"""

from __future__ import annotations

import json
import sys

from learning import Entry, run

if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    print(json.dumps(run(Entry(**job["entry"]), "torch", job["seed"], job["scale"], job["torch_threads"])))
