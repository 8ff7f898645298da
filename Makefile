# Shortcuts; the README's two commands are `bash tools/build_book.sh` and `bash tools/run_tests.sh`.
.PHONY: book test lab refresh bench lint clean

book:
	bash tools/build_book.sh

test:
	bash tools/run_tests.sh

lab:
	bash tools/setup_env.sh && JUPYTER_CONFIG_PATH=tools/jupyter .venv/bin/jupyter lab

# make refresh NB=book/geometry/hubness.ipynb   (default: every chapter)
refresh:
	bash tools/setup_env.sh && .venv/bin/python tools/refresh_outputs.py $(or $(NB),$(wildcard book/*/*.ipynb))

bench:
	bash tools/setup_env.sh && .venv/bin/python tools/benchmark.py

lint:
	.venv/bin/ruff check .

clean:
	rm -rf _build
