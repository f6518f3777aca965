"""Epsilon-greedy tabular policies (``TabularMixin`` models) written as skrl users write them, for both backends."""

from builders import module


def epsilon_greedy_policy(backend, observation_space, action_space, device=None, num_envs=1, epsilon=0.1):
    """A ``q_table`` of ones ``(num_envs, num_states, num_actions)``; greedy with probability ``1 - epsilon``."""
    models = module("models", backend)
    if backend == "torch":
        import torch

        class Policy(models.TabularMixin, models.Model):
            def __init__(self):
                models.Model.__init__(self, observation_space, action_space, device)
                models.TabularMixin.__init__(self, num_envs)
                self.epsilon = epsilon
                self.q_table = torch.ones((num_envs, self.num_observations, self.num_actions), device=self.device)

            def compute(self, inputs, role):
                states = inputs["states"].reshape(-1).long()
                rows = torch.arange(states.shape[0], device=self.device) % self.q_table.shape[0]
                actions = self.q_table[rows, states].argmax(dim=-1, keepdim=True)
                explore = torch.rand(states.shape[0], 1, device=self.device) < self.epsilon
                random_actions = torch.randint(self.num_actions, actions.shape, device=self.device)
                return torch.where(explore, random_actions, actions), {}

        return Policy()

    import jax
    import jax.numpy as jnp

    class Policy(models.TabularMixin, models.Model):
        def __init__(self, **kwargs):
            models.Model.__init__(self, observation_space, action_space, device, **kwargs)
            models.TabularMixin.__init__(self, num_envs)
            self.epsilon = epsilon
            self.q_table = jnp.ones((num_envs, self.num_observations, self.num_actions))

        def __call__(self, inputs, role):
            states = jnp.asarray(inputs["states"]).reshape(-1).astype(jnp.int32)
            rows = jnp.arange(states.shape[0]) % self.q_table.shape[0]
            actions = jnp.argmax(self.q_table[rows, states], axis=-1, keepdims=True)
            explore_key, action_key = jax.random.split(inputs["key"])
            explore = jax.random.uniform(explore_key, actions.shape) < self.epsilon
            random_actions = jax.random.randint(action_key, actions.shape, 0, self.num_actions)
            return jnp.where(explore, random_actions, actions), {}

    return Policy()
