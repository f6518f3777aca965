"""Every documented import path of the foundation works on both backends (skrl 1.4.3 user code runs unchanged)."""

import importlib

import pytest

PUBLIC = {
    "skrl": ["__version__", "logger", "config"],
    "skrl.utils": ["set_seed"],
    "skrl.models.{b}": ["Model", "GaussianMixin", "CategoricalMixin", "DeterministicMixin", "MultiCategoricalMixin",
                        "TabularMixin"],
    "skrl.utils.model_instantiators.{b}": ["gaussian_model", "categorical_model", "deterministic_model",
                                           "multicategorical_model", "Shape"],
    "skrl.utils.spaces.{b}": ["compute_space_size", "convert_gym_space", "flatten_tensorized_space", "sample_space",
                              "tensorize_space", "unflatten_tensorized_space", "untensorize_space"],
    "skrl.memories.{b}": ["Memory", "RandomMemory"],
    "skrl.envs.wrappers.{b}": ["wrap_env", "Wrapper", "MultiAgentEnvWrapper"],
    "skrl.trainers.{b}": ["Trainer", "SequentialTrainer", "StepTrainer", "generate_equally_spaced_scopes"],
    "skrl.trainers.{b}.sequential": ["SEQUENTIAL_TRAINER_DEFAULT_CONFIG"],
    "skrl.trainers.{b}.step": ["STEP_TRAINER_DEFAULT_CONFIG"],
    "skrl.agents.{b}": ["Agent"],
    "skrl.agents.{b}.ppo": ["PPO", "PPO_DEFAULT_CONFIG", "PPO_RNN"],
    "skrl.agents.{b}.ddpg": ["DDPG", "DDPG_DEFAULT_CONFIG", "DDPG_RNN"],
    "skrl.agents.{b}.td3": ["TD3", "TD3_DEFAULT_CONFIG", "TD3_RNN"],
    "skrl.agents.{b}.sac": ["SAC", "SAC_DEFAULT_CONFIG", "SAC_RNN"],
    "skrl.agents.{b}.dqn": ["DQN", "DQN_DEFAULT_CONFIG", "DDQN", "DDQN_DEFAULT_CONFIG"],
    "skrl.resources.noises.{b}": ["Noise", "GaussianNoise", "OrnsteinUhlenbeckNoise"],
    "skrl.agents.{b}.trpo": ["TRPO", "TRPO_DEFAULT_CONFIG", "TRPO_RNN"],
    "skrl.agents.{b}.cem": ["CEM", "CEM_DEFAULT_CONFIG"],
    "skrl.agents.{b}.q_learning": ["Q_LEARNING", "Q_LEARNING_DEFAULT_CONFIG"],
    "skrl.agents.{b}.sarsa": ["SARSA", "SARSA_DEFAULT_CONFIG"],
    "skrl.resources.preprocessors.{b}": ["RunningStandardScaler"],
    "skrl.resources.schedulers.{b}": ["KLAdaptiveLR"],
    "skrl.agents.{b}.a2c": ["A2C", "A2C_DEFAULT_CONFIG", "A2C_RNN"],
    "skrl.agents.{b}.rpo": ["RPO", "RPO_DEFAULT_CONFIG", "RPO_RNN"],
    "skrl.multi_agents.{b}": ["MultiAgent"],
    "skrl.multi_agents.{b}.ippo": ["IPPO", "IPPO_DEFAULT_CONFIG"],
    "skrl.multi_agents.{b}.mappo": ["MAPPO", "MAPPO_DEFAULT_CONFIG"],
}
TORCH_ONLY = {"skrl.models.torch": ["MultivariateGaussianMixin"],
              "skrl.trainers.torch": ["ParallelTrainer"],
              "skrl.trainers.torch.parallel": ["PARALLEL_TRAINER_DEFAULT_CONFIG"],
              "skrl.utils.model_instantiators.torch": ["multivariate_gaussian_model", "shared_model"]}
JAX_ONLY = {"skrl.trainers.jax": ["JittedTrainer"], "skrl.resources.optimizers.jax": ["Adam"], "skrl.resources.schedulers.jax": ["kl_adaptive"]}
SHARED = {"skrl.utils.huggingface": ["download_model_from_huggingface", "push_model_to_huggingface"],
          "skrl.utils.checkpoints": ["find_checkpoint", "convert_checkpoint"],
          "skrl.utils.runner": ["Runner"], "skrl.utils.runner.torch": ["Runner"], "skrl.utils.runner.jax": ["Runner"]}


@pytest.mark.parametrize("path, names", sorted(PUBLIC.items()))
def test_public_names(backend, path, names):
    mod = importlib.import_module(path.format(b=backend))
    for name in names:
        assert hasattr(mod, name), f"{path.format(b=backend)} lacks {name}"


@pytest.mark.parametrize("path, names", sorted({**TORCH_ONLY, **JAX_ONLY, **SHARED}.items()))
def test_backend_specific_names(path, names):
    mod = importlib.import_module(path)
    for name in names:
        assert hasattr(mod, name)


def test_ppo_default_config_is_one_object():
    from skrl.agents.jax.ppo import PPO_DEFAULT_CONFIG as jax_cfg
    from skrl.agents.torch.ppo import PPO_DEFAULT_CONFIG as torch_cfg

    assert torch_cfg is jax_cfg
    assert torch_cfg["rollouts"] == 16 and torch_cfg["learning_epochs"] == 8 and torch_cfg["mini_batches"] == 2
    assert torch_cfg["experiment"]["write_interval"] == "auto"


def test_config_top_level():
    from skrl import config

    assert config.jax.backend in ("numpy", "jax")
    with pytest.raises(ValueError, match="Invalid jax backend"):
        config.jax.backend = "tensorflow"
    assert config.torch.world_size == 1 and not config.torch.is_distributed
