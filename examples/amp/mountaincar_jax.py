"""AMP on MountainCarContinuous-v0 with JAX

Adversarial Motion Priors where PPO alone fails: MountainCar's flag is too far to find by chance, but a
discriminator trained on a scripted expert's transitions (``_mountaincar_motions.py``: full force along the
velocity) gives a style reward for moving like it. Eight vectorised environments report their transitions as
``infos["amp_obs"]``; the policy, value and discriminator are 64x64 tanh MLPs from the model instantiators, and
the reward is half task, half style. The default budget (12,500 steps x 8 environments = 100,000 transitions)
reaches the flag every episode (evaluation return about 89-91).
"""

import argparse

import gymnasium
from _mountaincar_motions import AMP_SIZE, TASK, AMPTransitions, reference_motions

from skrl.agents.jax.amp import AMP
from skrl.envs.wrappers.jax import wrap_env
from skrl.memories.jax import RandomMemory
from skrl.resources.preprocessors.jax import RunningStandardScaler
from skrl.resources.schedulers.jax import KLAdaptiveLR
from skrl.trainers.jax import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.jax import deterministic_model, gaussian_model

parser = argparse.ArgumentParser(description="AMP on MountainCarContinuous-v0 with JAX")
parser.add_argument("--timesteps", type=int, default=12_500, help="env steps per environment")
parser.add_argument("--seed", type=int, default=42)
args = parser.parse_args()

set_seed(args.seed)
env = gymnasium.make_vec(TASK, num_envs=8, vectorization_mode="sync")
env.reset(seed=args.seed)
env = AMPTransitions(wrap_env(env, wrapper="gymnasium"), backend="jax")
amp_space = gymnasium.spaces.Box(-float("inf"), float("inf"), (AMP_SIZE,))

network = [{"name": "net", "input": "STATES", "layers": [64, 64], "activations": "tanh"}]
spaces = (env.observation_space, env.action_space, env.device)
models = {
    "policy": gaussian_model(*spaces, clip_actions=True, network=network, output="tanh(ACTIONS)"),
    "value": deterministic_model(*spaces, network=network, output="ONE"),
    "discriminator": deterministic_model(amp_space, env.action_space, env.device, network=network, output="ONE"),
}
for role, model in models.items():
    model.init_state_dict(role)

cfg = {
    "rollouts": 256,
    "learning_epochs": 8,
    "mini_batches": 8,
    "learning_rate": 1e-3,
    "learning_rate_scheduler": KLAdaptiveLR,
    "learning_rate_scheduler_kwargs": {"kl_threshold": 0.008},
    "grad_norm_clip": 0.5,
    "value_loss_scale": 1.0,
    "state_preprocessor": RunningStandardScaler,
    "state_preprocessor_kwargs": {"size": env.observation_space, "device": env.device},
    "value_preprocessor": RunningStandardScaler,
    "value_preprocessor_kwargs": {"size": 1, "device": env.device},
    "amp_state_preprocessor": RunningStandardScaler,
    "amp_state_preprocessor_kwargs": {"size": amp_space, "device": env.device},
    "amp_batch_size": 512,
    "discriminator_batch_size": 512,
    "discriminator_gradient_penalty_scale": 0.5,
    "task_reward_weight": 0.5,
    "style_reward_weight": 0.5,
    "experiment": {"directory": "runs/amp_mountaincar_jax"},
}
agent = AMP(models=models, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space,
            device=env.device, amp_observation_space=amp_space,
            memory=RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs, device=env.device),
            motion_dataset=RandomMemory(memory_size=20_000, device=env.device),
            reply_buffer=RandomMemory(memory_size=100_000, device=env.device),
            collect_reference_motions=reference_motions("jax", env.device, seed=args.seed))

trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True})
trainer.train()
print(f"run directory: {agent.experiment_dir}")
