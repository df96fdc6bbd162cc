# The two commands of README.md: `make run` (track; the built-in demo without a camera) and
# `make test`. Both set up a fresh machine first (scripts/setup.sh, idempotent).
.PHONY: setup run test lint bench

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/vtuber track --viewer $(ARGS)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

lint:
	.venv/bin/ruff check vtuber tests scripts benchmarks avatars
	.venv/bin/ruff format --check vtuber tests scripts benchmarks avatars
	.venv/bin/mypy vtuber
	.venv/bin/vulture  # dead code; settings in pyproject.toml [tool.vulture]

bench:
	.venv/bin/vtuber bench $(ARGS)
