"""IPPO and MAPPO learn the cooperative signal task on both backends (random play scores about 10.7 per episode)."""

import pytest
from builders import read_events, trainer
from ma_builders import make_multi_agent, wrapped_signal_env

RANDOM_RETURN = 32 / 3  # 8 steps x 2 agents x the team's expected 2/3 right answers


@pytest.mark.parametrize("algorithm", ["IPPO", "MAPPO"])
def test_the_team_return_improves(backend, algorithm, tmp_path):
    from skrl.utils import set_seed

    set_seed(0)
    env = wrapped_signal_env(backend)
    agent = make_multi_agent(backend, algorithm, env, {
        "rollouts": 16, "learning_epochs": 4, "mini_batches": 2,
        "experiment": {"directory": str(tmp_path), "write_interval": 250, "checkpoint_interval": 0},
    })
    trainer(backend, env, agent, 1500).train()
    returns = [value for _, value in read_events(agent.experiment_dir)["Reward / Total reward (mean)"]]
    assert returns[-1] > returns[0] + 3 and returns[-1] > RANDOM_RETURN + 5, returns
