"""Parent side: plan a grade, run its children, score it, build the result (grading, scoring)."""
