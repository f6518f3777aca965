"""Writing TensorBoard events from a JAX process does not load torch (tensorboardX imports it whenever installed)."""

import subprocess
import sys

SCRIPT = """
import sys, tempfile
from skrl.common.tracking import EventFile, _summary_writer_class
with tempfile.TemporaryDirectory() as directory:
    writer = _summary_writer_class()(log_dir=directory)
    writer.add_scalar("Reward / Total reward (mean)", 1.0, 1)
    writer.close()
    EventFile(directory).close()
print("torch after writing:", "torch" in sys.modules)
import torch
print("torch importable:", torch.zeros(1).shape == (1,))
"""


def test_tensorboard_writer_without_torch_loaded_keeps_torch_importable():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "torch after writing: False" in done.stdout
    assert "torch importable: True" in done.stdout
