#!/bin/sh
# The folders of proxy/ are floors, top to bottom: main.c, net, api, fast, control, upstream,
# base. A file includes headers from its own floor and the floors below, never above: the
# house has no circles. Prints each include that points up and exits 1 if there is one.
cd "$(dirname "$0")/.." || exit 2
order="net api fast control upstream base"
rank() { i=0; for f in $order; do i=$((i + 1)); [ "$f" = "$1" ] && { echo $i; return; }; done; echo 0; }
bad=0
for src in proxy/*/*.[ch]; do
    floor=$(basename "$(dirname "$src")")
    mine=$(rank "$floor")
    [ "$mine" -gt 0 ] || { echo "layers: $src is in $floor, which is not a floor (add it to order)"; bad=1; continue; }
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src"); do
        case "$h" in */*)
            echo "layers: $src includes \"$h\" by a path: name the header alone (its floor is on -I)"
            bad=1
            continue ;;
        esac
        where=$(ls proxy/*/"$h" 2>/dev/null | head -1)
        [ -n "$where" ] || { echo "layers: $src includes $h, which no floor has"; bad=1; continue; }
        theirs=$(rank "$(basename "$(dirname "$where")")")
        if [ "$theirs" -lt "$mine" ]; then
            echo "layers: $src ($floor) includes $where, a floor above"
            bad=1
        fi
    done
done
[ $bad = 0 ] && echo "layers: every include points down a floor (or stays on its own)"
exit $bad
