"""torch <-> JAX checkpoint conversion gives the same policy on the other backend."""

import numpy as np
import pytest
import torch
from builders import make_ppo, module, to_numpy, trainer, wrapped_gym_env

from skrl._cli import main
from skrl.utils.checkpoints import convert_checkpoint


def _agent(backend, tmp_path, write=False):
    env = wrapped_gym_env(backend, "CartPole-v1", num_envs=2)
    scaler = module("resources.preprocessors", backend).RunningStandardScaler
    experiment = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 100 if write else 0}
    return make_ppo(backend, env, {"rollouts": 16, "state_preprocessor": scaler, "experiment": experiment,
                                   "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device}}), env


def _logits(agent, backend, obs):
    states = agent._state_preprocessor(torch.as_tensor(obs) if backend == "torch" else obs)
    return to_numpy(agent.policy.act({"states": states}, role="policy")[2]["net_output"])


def test_torch_trained_policy_converted_to_jax_and_back(tmp_path):
    source, env = _agent("torch", tmp_path / "t", write=True)
    trainer("torch", env, source, 200).train()
    path = f"{source.experiment_dir}/checkpoints/agent_200.pt"
    obs = np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype(np.float32)

    skipped = convert_checkpoint(path, str(tmp_path / "as_jax"), to="jax")
    assert "optimizer" in skipped
    target, _ = _agent("jax", tmp_path / "j")
    target.init(trainer_cfg={"timesteps": 0})
    target.load(str(tmp_path / "as_jax"))
    np.testing.assert_allclose(_logits(target, "jax", obs), _logits(source, "torch", obs), atol=1e-5)

    assert main(["convert", str(tmp_path / "as_jax"), str(tmp_path / "back.pt"), "--to", "torch"]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    original = torch.load(path, weights_only=True)
    for name in ("policy", "value", "state_preprocessor"):
        for key, value in original[name].items():
            np.testing.assert_allclose(back[name][key].numpy(), value.numpy(), atol=1e-6, err_msg=f"{name}.{key}")


def test_unknown_layout_is_refused(tmp_path):
    torch.save({"policy": {"encoder.conv.weight_g": torch.zeros(2)}}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="encoder.conv.weight_g"):
        convert_checkpoint(str(tmp_path / "x.pt"), str(tmp_path / "y"), to="jax")
