import os

os.environ.setdefault("NPSNN_EDU_FAST", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
