"""Entry point of ``python -m skrl`` (see ``skrl._cli``)."""

import sys

from skrl._cli import main

if __name__ == "__main__":
    sys.exit(main())
