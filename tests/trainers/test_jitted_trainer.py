"""JittedTrainer: PPO on a gymnax env with rollouts and updates compiled together, through the same data layer."""

import os

import numpy as np
import pytest
from builders import make_ppo, module, read_events, wrapped_gym_env

gymnax = pytest.importorskip("gymnax")
jax = pytest.importorskip("jax")

EPISODE_TAGS = {"Reward / Total reward (mean)", "Reward / Total reward (min)", "Reward / Total reward (max)",
                "Episode / Total timesteps (mean)", "Reward / Instantaneous reward (mean)"}
UPDATE_TAGS = {"Loss / Policy loss", "Loss / Value loss", "Policy / Standard deviation", "Learning / Learning rate"}


def _env(env_id="CartPole-v1", num_envs=4):
    from skrl.envs.wrappers.jax import wrap_env

    return wrap_env(gymnax.make(env_id)[0], wrapper="gymnax", num_envs=num_envs, seed=0)


def _agent(env, directory, write_interval=32, checkpoint_interval=64, **cfg):
    scaler = module("resources.preprocessors", "jax").RunningStandardScaler
    schedule = module("resources.schedulers", "jax").KLAdaptiveLR
    return make_ppo("jax", env, {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "state_preprocessor": scaler,
                                 "state_preprocessor_kwargs": {"size": env.observation_space},
                                 "learning_rate_scheduler": schedule, "experiment": {
                                     "directory": str(directory), "experiment_name": "run",
                                     "write_interval": write_interval, "checkpoint_interval": checkpoint_interval},
                                 **cfg})


def _train(env, agent, timesteps):
    from skrl.trainers.jax import JittedTrainer

    JittedTrainer(env=env, agents=agent, cfg={"timesteps": timesteps, "disable_progressbar": True}).train()


def _checkpoints(agent):
    return set(os.listdir(os.path.join(agent.experiment_dir, "checkpoints")))


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    """One 256-step run on CartPole (4 envs, rollouts of 16): writes every 32 steps, checkpoints every 64."""
    env = _env()
    agent = _agent(env, tmp_path_factory.mktemp("cartpole"), entropy_loss_scale=0.01)
    _train(env, agent, 256)
    return env, agent


def _assert_tags_at_write_intervals(agent):
    events = read_events(agent.experiment_dir)
    assert EPISODE_TAGS | UPDATE_TAGS | {"Loss / Entropy loss"} <= set(events)
    assert [step for step, _ in events["Loss / Policy loss"]] == list(range(32, 257, 32))
    assert all(np.isfinite(value) for _, value in events["Loss / Value loss"])
    assert agent._rollout == 256


def test_tensorboard_scalars_at_write_intervals(cartpole_run):
    _assert_tags_at_write_intervals(cartpole_run[1])


def test_continuous_actions_pendulum(tmp_path):
    # 8 envs: with these shapes a per-step reward reduction fused with the env step and the Gaussian sampling once
    # stalled XLA's CPU code generation; the statistics are now folded once per rollout
    env = _env("Pendulum-v1", num_envs=8)
    agent = _agent(env, tmp_path, entropy_loss_scale=0.01)
    _train(env, agent, 256)
    _assert_tags_at_write_intervals(agent)
    events = read_events(agent.experiment_dir)
    assert all(np.isfinite(value) and value > 0 for _, value in events["Policy / Standard deviation"])
    # every Pendulum episode is cut at 200 steps: all 8 end in the write interval up to step 224, none after
    assert [step for step, _ in events["Episode / Total timesteps (mean)"]] == [224]
    assert all(value == 200 for _, value in events["Episode / Total timesteps (mean)"])
    returns = [value for _, value in events["Reward / Total reward (mean)"]]
    assert all(-200 * 16.3 <= value < 0 for value in returns)  # a step's reward lies in [-16.3, 0]


def test_checkpoints_at_intervals_and_best_model_load_with_agent_load(cartpole_run, tmp_path):
    env, agent = cartpole_run
    assert {"agent_64", "agent_128", "agent_192", "agent_256", "best_agent"} <= _checkpoints(agent)
    fresh = _agent(env, tmp_path, 0, 0)
    fresh.init(trainer_cfg={"timesteps": 0})
    fresh.load(os.path.join(agent.experiment_dir, "checkpoints", "agent_256"))
    states = np.random.default_rng(0).uniform(-0.1, 0.1, (6, 4)).astype(np.float32)
    agent.set_running_mode("eval")
    fresh.set_running_mode("eval")
    expected = agent.act(states, 10**6, 10**6)[2]["net_output"]
    np.testing.assert_array_equal(np.asarray(fresh.act(states, 10**6, 10**6)[2]["net_output"]), np.asarray(expected))
    assert fresh.resume_timestep == 256


def test_resume_continues_from_the_loaded_checkpoint(cartpole_run, tmp_path):
    env, first = cartpole_run
    second = _agent(env, tmp_path, entropy_loss_scale=0.01)
    from skrl.trainers.jax import JittedTrainer

    trainer = JittedTrainer(env=env, agents=second, cfg={"timesteps": 256, "disable_progressbar": True})
    second.load(os.path.join(first.experiment_dir, "checkpoints", "agent_128"))
    trainer.train()
    events = read_events(second.experiment_dir)
    assert [step for step, _ in events["Loss / Policy loss"]] == [160, 192, 224, 256]
    assert {"agent_192", "agent_256"} <= _checkpoints(second) and "agent_64" not in _checkpoints(second)
    assert second._rollout == 256


def test_eval_writes_episode_statistics_and_no_checkpoint(tmp_path):
    from skrl.trainers.jax import JittedTrainer

    env = _env()
    agent = _agent(env, tmp_path)
    JittedTrainer(env=env, agents=agent, cfg={"timesteps": 128, "disable_progressbar": True}).eval()
    events = read_events(agent.experiment_dir)
    assert EPISODE_TAGS <= set(events) and not UPDATE_TAGS & set(events)
    assert not [name for name in _checkpoints(agent) if name.startswith("agent_")]


def test_rejects_host_environments_random_timesteps_and_several_agents(tmp_path):
    from skrl.trainers.jax import JittedTrainer

    host = wrapped_gym_env("jax", "CartPole-v1", num_envs=2)
    with pytest.raises(TypeError, match="needs a JAX-native environment.*Received: GymnasiumWrapper"):
        JittedTrainer(env=host, agents=_agent(host, tmp_path))
    env = _env()
    with pytest.raises(ValueError, match="expected random_timesteps=0.*Received: random_timesteps=5"):
        JittedTrainer(env=env, agents=_agent(env, tmp_path, random_timesteps=5))
    with pytest.raises(ValueError, match="trains one agent. Received: 2 agents"):
        JittedTrainer(env=env, agents=[_agent(env, tmp_path), _agent(env, tmp_path)], agents_scope=[2, 2])
