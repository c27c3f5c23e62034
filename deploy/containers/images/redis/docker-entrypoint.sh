#!/bin/sh
# As the official redis image's: options alone or a .conf file run redis-server; as root,
# /data is handed to `redis` and the server runs as it. defaults.conf comes first so that
# what the command gives (a configuration file, options) overrides it.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec gosu redis "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    # A configuration file: included after the defaults, then the remaining options.
    conf=$1
    shift
    set -- redis-server /usr/local/etc/redis/defaults.conf --include "$conf" "$@"
  else
    set -- redis-server /usr/local/etc/redis/defaults.conf "$@"
  fi
fi
exec "$@"
