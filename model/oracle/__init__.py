"""perpspec.oracle."""
