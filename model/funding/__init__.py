"""perpspec.funding."""
