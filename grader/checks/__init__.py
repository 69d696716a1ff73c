"""Child only: the check plumbing (pytest plugin, forbidden-op guard, comparing, describing)."""
