"""Trusted helpers that hidden checks import at collection time (before the sandbox locks).

Code here runs outside the candidate's reach in the grading child, or in processes the
checks start themselves (the rank processes of `dp_ranks`).
"""
