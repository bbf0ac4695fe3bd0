#!/bin/sh
# /usr/bin/telework-relay of the Debian package: the frozen relay in /opt/telework/relay.
# `serve` and `manage` get the package's data directory (and TELEWORK_DATABASE from
# /etc/default/telework-relay) unless given; run by root, it runs as the telework user, so a
# root shell never leaves root-owned files in the relay's data directory.
set -e
RELAY=/opt/telework/relay/telework-relay
DATA_DIR=/var/lib/telework/relay
TELEWORK_DATABASE=
if [ -r /etc/default/telework-relay ]; then . /etc/default/telework-relay; fi
case "${1:-}" in
serve | manage)
    command=$1
    shift
    case " $* " in
    *" --data-dir"*) ;;
    *) set -- --data-dir "$DATA_DIR" "$@" ;;
    esac
    if [ -n "$TELEWORK_DATABASE" ]; then
        case " $* " in
        *" --database"*) ;;
        *) set -- --database "$TELEWORK_DATABASE" "$@" ;;
        esac
    fi
    set -- "$command" "$@"
    ;;
esac
if [ "$(id -u)" = 0 ] && getent passwd telework >/dev/null; then
    exec setpriv --reuid=telework --regid=telework --init-groups -- "$RELAY" "$@"
fi
exec "$RELAY" "$@"
