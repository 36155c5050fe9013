"""Developer tooling: the offline Pulumi engine, the local API and its AWS emulator."""
