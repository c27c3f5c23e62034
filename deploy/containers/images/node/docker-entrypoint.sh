#!/bin/sh
# As the official node image's: an option, a file that is not executable or a name that is
# no command runs under node (`docker run node:24 -e ...`, `... app.js`).
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || :)" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
