"""The organization's Pulumi policy pack: rules.py contains the rules, and __main__.py wraps them for the engine."""
