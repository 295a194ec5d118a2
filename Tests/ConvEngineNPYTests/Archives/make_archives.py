"""Write the zip archives that NPYArchiveTests (and conv's CLI tests) give the .npy reader by mistake.

    two_arrays.npz   numpy.savez(x=float32 (2, 3), w=float64 (4,))
    compressed.npz   numpy.savez_compressed of the same
    tensor.pt        torch.save of a float32 (2, 3) tensor (the zip format torch.save writes by default)
    notes.zip        a zip with one text member: neither of the two

Rerun from the repository root with a Python that has numpy and torch, for example the one `make compare`
sets up:

    .venv-compare/bin/python Tests/ConvEngineNPYTests/Archives/make_archives.py

The tests read only the committed files; CI needs neither numpy nor torch.
"""

import os
import zipfile

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
x = np.arange(6, dtype=np.float32).reshape(2, 3)
w = np.linspace(-1, 1, 4)
np.savez(os.path.join(here, "two_arrays.npz"), x=x, w=w)
np.savez_compressed(os.path.join(here, "compressed.npz"), x=x, w=w)
torch.save(torch.from_numpy(x), os.path.join(here, "tensor.pt"))
with zipfile.ZipFile(os.path.join(here, "notes.zip"), "w") as z:
    z.writestr("notes.txt", "not an array\n")
for name in sorted(os.listdir(here)):
    if not name.endswith(".py"):
        with zipfile.ZipFile(os.path.join(here, name)) as z:
            print(name, os.path.getsize(os.path.join(here, name)), "bytes:", z.namelist())
