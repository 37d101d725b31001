"""Privacy across every output: what each stage, file, command and dashboard answer may show, end to end."""
