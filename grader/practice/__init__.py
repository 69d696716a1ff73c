"""The candidate's side: workspaces, kits, watch, history, hints, what to practise next."""
