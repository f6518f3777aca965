"""Deep Q-Network and Double DQN (JAX); as in skrl 1.4.3, both live in this package."""

from skrl.common.dqn import DDQN_DEFAULT_CONFIG, DQN_DEFAULT_CONFIG
from skrl.jax.dqn import DDQN, DQN

__all__ = [
    "DDQN",
    "DDQN_DEFAULT_CONFIG",
    "DQN",
    "DQN_DEFAULT_CONFIG",
]
