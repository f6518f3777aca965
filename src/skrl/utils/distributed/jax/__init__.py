"""``python -m skrl.utils.distributed.jax --nproc-per-node 2 script.py``: run a JAX script on several processes."""
