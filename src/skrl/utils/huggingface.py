"""Hugging Face Hub: download a skrl checkpoint (a torch file or a JAX orbax directory) and push one with a model card.

Both need the ``huggingface_hub`` package (the ``hub`` extra), imported on first use::

    path = push_model_to_huggingface("runs/cartpole/checkpoints/best_agent.pt", "me/ppo-cartpole", agent=agent,
                                     environment="CartPole-v1", evaluation_return=500.0)
    path = download_model_from_huggingface("me/ppo-cartpole", filename="best_agent.pt")
    agent.load(path)
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

import yaml

from skrl import __version__, logger
from skrl.common.run_manifest import jsonable

MODEL_CARD_NAME = "README.md"


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError as e:
        raise ImportError("The Hugging Face Hub client (huggingface_hub) is not installed: install it with "
                          "`pip install skrl[hub]`") from e
    return huggingface_hub


def _entry_not_found_errors(hub: Any) -> tuple:
    """The 'no such file' errors of this ``huggingface_hub`` version (remote, and not in the cache when offline)."""
    names = ("EntryNotFoundError", "RemoteEntryNotFoundError")
    return tuple(getattr(hub.errors, name) for name in names if hasattr(hub.errors, name))


def download_model_from_huggingface(repo_id: str, filename: str = "agent.pt", revision: Optional[str] = None) -> str:
    """Download a checkpoint from the Hub (or take it from the local cache) and return its local path.

    Args:
        repo_id: the model repository, e.g. ``"skrl/IsaacGymEnvs-Cartpole-PPO"``.
        filename: the checkpoint's path in the repository: a file (torch ``agent.pt``, skrl 1.4.3 JAX
            ``agent.pickle``) or a directory (a JAX orbax checkpoint such as ``agent``).
        revision: a branch, tag or commit hash (default: the main branch).

    Returns:
        The cached file, or the cached directory for a directory checkpoint; pass it to ``agent.load``.
    """
    hub = _hub()
    logger.info(f"Downloading model from Hugging Face Hub: {repo_id}/{filename}")
    where = {"repo_id": repo_id, "revision": revision, "library_name": "skrl", "library_version": __version__}
    try:
        return hub.hf_hub_download(filename=filename, **where)
    except _entry_not_found_errors(hub):
        pass  # not a file: a directory checkpoint (JAX)
    directory = os.path.join(hub.snapshot_download(allow_patterns=f"{filename}/*", **where), filename)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"The Hub repository {repo_id!r} (revision {revision or 'main'}) has no checkpoint "
                                f"file or directory named {filename!r}")
    return directory


def infer_backend(checkpoint: str) -> str:
    """``"jax"`` for an orbax directory or a skrl 1.4.3 ``.pickle``, ``"torch"`` for a ``.pt`` file."""
    if os.path.isdir(checkpoint) or checkpoint.endswith(".pickle"):
        return "jax"
    if checkpoint.endswith(".pt"):
        return "torch"
    raise ValueError(f"Cannot tell the backend of {checkpoint!r}: pass backend='torch' or backend='jax'")


def build_model_card(repo_id: str, filename: str, backend: str, algorithm: str = "agent",
                     environment: Optional[str] = None, agent_config: Optional[Mapping[str, Any]] = None,
                     evaluation_return: Optional[float] = None, tags: Sequence[str] = ()) -> str:
    """The ``README.md`` of a pushed checkpoint: Hub metadata (tags, evaluation result) and a human-readable summary."""
    all_tags = ["skrl", "reinforcement-learning", "deep-reinforcement-learning", backend]
    all_tags += ([environment] if environment else []) + list(tags)
    metadata: dict[str, Any] = {"library_name": "skrl", "tags": list(dict.fromkeys(all_tags))}
    if environment and evaluation_return is not None:
        metadata["model-index"] = [{"name": algorithm, "results": [{
            "task": {"type": "reinforcement-learning", "name": "reinforcement-learning"},
            "dataset": {"name": environment, "type": environment},
            "metrics": [{"type": "mean_reward", "value": float(evaluation_return), "name": "final evaluation return"}],
        }]}]
    final_return = "not given" if evaluation_return is None else f"{float(evaluation_return):g}"
    summary = [("Backend", backend), ("Algorithm", algorithm), ("Environment", environment or "not given"),
               ("Final evaluation return", final_return),
               ("skrl version", __version__), ("Checkpoint", f"`{filename}`")]
    lines = ["---", yaml.safe_dump(metadata, sort_keys=False).rstrip(), "---", "",
             f"# {algorithm} agent{f' for {environment}' if environment else ''} (skrl, {backend})", "",
             "| | |", "| --- | --- |", *[f"| {key} | {value} |" for key, value in summary], "",
             "## Usage", "", "```python", "from skrl.utils.huggingface import download_model_from_huggingface", "",
             f'path = download_model_from_huggingface("{repo_id}", filename="{filename}")',
             "agent.load(path)  # an agent built with the models and configuration below", "```", ""]
    if agent_config is not None:
        config = yaml.safe_dump(jsonable(dict(agent_config)), sort_keys=False).rstrip()
        lines += ["## Agent configuration", "", "```yaml", config, "```", ""]
    return "\n".join(lines)


def _checkpoint_operations(hub: Any, checkpoint: str, filename: str) -> list:
    """One ``CommitOperationAdd`` for a file, or one per file of a directory checkpoint (under ``filename/``)."""
    if not os.path.isdir(checkpoint):
        return [hub.CommitOperationAdd(path_in_repo=filename, path_or_fileobj=checkpoint)]
    operations = []
    for root, _, files in os.walk(checkpoint):
        for name in sorted(files):
            local = os.path.join(root, name)
            relative = os.path.relpath(local, checkpoint).replace(os.sep, "/")
            operations.append(hub.CommitOperationAdd(path_in_repo=f"{filename}/{relative}", path_or_fileobj=local))
    return operations


def push_model_to_huggingface(checkpoint: str, repo_id: str, *, agent: Any = None, environment: Optional[str] = None,
                              evaluation_return: Optional[float] = None, tags: Sequence[str] = (),
                              backend: Optional[str] = None, agent_config: Optional[Mapping[str, Any]] = None,
                              filename: Optional[str] = None, revision: Optional[str] = None, private: bool = False,
                              token: Optional[str] = None, commit_message: Optional[str] = None) -> str:
    """Upload a checkpoint (file or directory) and a generated model card in one commit; returns the commit URL.

    Args:
        checkpoint: a torch ``.pt`` file, a JAX orbax checkpoint directory or a skrl 1.4.3 ``.pickle``.
        repo_id: the model repository (created if missing).
        agent: the trained agent: its class, backend and config go into the model card.
        environment: the environment id (a tag and the card's dataset).
        evaluation_return: the final evaluation return (the card's ``mean_reward`` metric).
        tags: extra Hub tags.
        backend: overrides what ``agent`` (or the checkpoint's form) gives.
        agent_config: overrides the config of ``agent``.
        filename: the checkpoint's name in the repository (default: its base name).
        revision: passed to the Hub client.
        private: passed to the Hub client.
        token: passed to the Hub client.
        commit_message: passed to the Hub client.
    """
    hub = _hub()
    if not os.path.exists(checkpoint):
        raise FileNotFoundError(f"No checkpoint at {checkpoint!r}")
    filename = filename or os.path.basename(os.path.normpath(checkpoint))
    backend = backend or getattr(agent, "_backend_name", None) or infer_backend(checkpoint)
    card = build_model_card(repo_id, filename, backend, type(agent).__name__ if agent is not None else "agent",
                            environment, agent_config if agent_config is not None else getattr(agent, "cfg", None),
                            evaluation_return, tags)
    api = hub.HfApi(token=token, library_name="skrl", library_version=__version__)
    api.create_repo(repo_id, private=private, exist_ok=True)
    operations = _checkpoint_operations(hub, checkpoint, filename)
    operations.append(hub.CommitOperationAdd(path_in_repo=MODEL_CARD_NAME, path_or_fileobj=card.encode()))
    logger.info(f"Pushing model to Hugging Face Hub: {repo_id}/{filename}")
    info = api.create_commit(repo_id, operations, commit_message=commit_message or f"Upload skrl checkpoint {filename}",
                             revision=revision)
    return info.commit_url
