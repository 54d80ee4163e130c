"""Tracking plans: a team's event contract, imported from the formats teams use, checked and covered."""
