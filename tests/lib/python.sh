# Prerequisites of the Python tests, SKIP lines naming the missing package.
# shellcheck shell=bash

# python_prereqs: $PY (the interpreter) has USDT probes and Flask.
python_prereqs() {
	if ! readelf -n "$PY" 2>/dev/null | grep -q function__entry; then
		skip all "$PY with USDT probes not installed (Debian package python3.11)"
		return 1
	fi
	if ! "$PY" -c 'import flask' 2>/dev/null; then
		skip all "Flask for $PY not installed (Debian package python3-flask)"
		return 1
	fi
}
