"""perpspec.testing."""
