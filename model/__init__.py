"""perpspec: an executable specification and reference model of perpetual-futures risk engines.

The package is the model; ``spec/`` holds the normative rules it implements (by rule ID),
``perpspec.proofs`` the Z3 proofs over the same functions.
"""

__version__ = "0.1.0"
SPEC_VERSION = "0.1"
