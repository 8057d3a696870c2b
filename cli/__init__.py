"""The `carbonx` command for suppliers, buyers and auditors.

It speaks HTTP and uses `trust/` only; it never imports Django or the ORM, so it runs
anywhere the package is installed, offline where the task allows.
"""
