"""perpspec.pricing."""
