import sys

from skrl.common.launcher import launch

sys.exit(launch())
