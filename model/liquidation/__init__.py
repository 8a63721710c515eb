"""perpspec.liquidation."""
