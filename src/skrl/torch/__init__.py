"""The torch side of skrl's backend interface (devices, arrays, checkpoint I/O)."""
