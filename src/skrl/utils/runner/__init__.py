"""The Runner: build models, memory, agent and trainer from one config (the Isaac Lab YAML layout) and run them.

``skrl.utils.runner.Runner`` takes the backend from the config's ``backend`` key (``torch`` or ``jax``);
``skrl.utils.runner.torch.Runner`` and ``skrl.utils.runner.jax.Runner`` fix it.
"""

from skrl.common.runner_config import RunnerConfigError
from skrl.common.runner_core import Runner

__all__ = ["Runner", "RunnerConfigError"]
