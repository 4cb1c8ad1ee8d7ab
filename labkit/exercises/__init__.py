"""Exercise definitions, one module per notebook (``nbNN.py``).

Each module registers its exercises with :func:`labkit.check.function_exercise` or
:func:`labkit.check.register`: the reference answer, at least two plausible wrong answers and
hints in steps. Keep module-level imports light (NumPy only); import TensorFlow/Keras inside
functions so that loading the registry stays fast.
"""
