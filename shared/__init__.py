"""Code shared by the four stacks, the tasks and the tests: names, settings, tags, contracts."""
