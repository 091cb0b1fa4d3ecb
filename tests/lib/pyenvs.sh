# CPython builds without USDT (pyenv's: --enable-shared, like the official
# images) and a venv with Flask for each, made here on first use (PyPI) and
# cached under ~/.cache/spanprobe-pyenvs/VERSION, so a cold machine builds
# them once as the tests' own prerequisite step.
# shellcheck shell=bash

PYENVS_DIR=${SPANPROBE_PYENVS:-$HOME/.cache/spanprobe-pyenvs}
PYENV=${PYENV:-$(command -v pyenv || echo "$HOME/.pyenv/bin/pyenv")}
PY_VERSIONS=${PY_VERSIONS:-3.8 3.9 3.10 3.11 3.12 3.13}

# pyenv_prefix VERSION: where pyenv installed CPython VERSION ("" if not).
pyenv_prefix() { [ -x "$PYENV" ] && "$PYENV" prefix "$1" 2>/dev/null; }

# pyenv_flask_venv VERSION: prints the venv's directory, making it first
# when missing. Fails (message on stderr) when CPython VERSION is not
# installed or Flask can't be installed. Concurrent callers wait on a lock.
pyenv_flask_venv() {
	local v=$1 prefix venv
	prefix=$(pyenv_prefix "$v")
	if [ -z "$prefix" ] || [ ! -x "$prefix/bin/python$v" ]; then
		echo "CPython $v is not installed (pyenv install $v)" >&2
		return 1
	fi
	venv=$PYENVS_DIR/$v
	mkdir -p "$PYENVS_DIR"
	(
		flock 9
		if ! "$venv/bin/python" -c 'import flask' 2>/dev/null; then
			rm -rf "$venv"
			"$prefix/bin/python$v" -m venv "$venv" &&
				"$venv/bin/pip" install --quiet --disable-pip-version-check flask
		fi
	) 9>"$PYENVS_DIR/.lock" >&2 || { echo "Flask could not be installed for CPython $v" >&2; return 1; }
	echo "$venv"
}

# libpython_of VERSION: the interpreter's shared library.
libpython_of() { echo "$(pyenv_prefix "$1")/lib/libpython$1.so.1.0"; }
