#!/bin/sh
# tools/fetch_emoji.sh [SET] [OUT]: colour pictures with categories for trying ganc on a folder.
#
# Fetches the npm package emoji-datasource-SET (SET: twitter, the default, or google) with
# `npm pack` (nothing is installed) and lays out its 64x64 RGBA PNGs as class folders, one per
# emoji category of the package's emoji.json (skin-tone variants go with their emoji; the
# "Component" swatches are left out):
#     OUT/animals-nature/1f408.png, OUT/food-drink/1f34e.png, ...
# OUT defaults to data/emoji-SET (ignored by git). Then:
#     ganc train --data data/emoji-twitter --model dcgan64 --out runs/emoji
#
# Licences: the package's code and data are MIT; the pictures are the emoji set's own (Twemoji:
# CC-BY 4.0, credit "Twemoji by Twitter"; Noto Emoji: Apache 2.0). OUT/SOURCE.txt says which.
set -eu
SET=${1:-twitter}
case "$SET" in twitter | google) ;; *) echo "fetch_emoji.sh: SET must be twitter or google, not '$SET'" >&2; exit 2 ;; esac
OUT=${2:-data/emoji-$SET}
VERSION=16.0.0
PKG=emoji-datasource-$SET
command -v npm >/dev/null || { echo "fetch_emoji.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "fetch_emoji.sh: python3 is needed to read emoji.json" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "fetching $PKG@$VERSION ..."
(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null && tar xzf "$PKG-$VERSION.tgz")
mkdir -p "$OUT"
python3 - "$tmp/package" "$OUT" "$SET" <<'PY'
import json, os, re, shutil, sys
pkg, out, which = sys.argv[1:4]
src = os.path.join(pkg, "img", which, "64")
emoji = json.load(open(os.path.join(pkg, "emoji.json")))
counts = {}
for e in emoji:
    if e["category"] == "Component" or not e.get("has_img_" + which):
        continue
    cls = re.sub(r"[^a-z0-9]+", "-", e["category"].lower()).strip("-")
    images = [e["image"]] + [v["image"] for v in (e.get("skin_variations") or {}).values() if v.get("has_img_" + which)]
    for name in images:
        path = os.path.join(src, name)
        if not os.path.exists(path):
            continue
        os.makedirs(os.path.join(out, cls), exist_ok=True)
        shutil.copyfile(path, os.path.join(out, cls, name))
        counts[cls] = counts.get(cls, 0) + 1
with open(os.path.join(out, "SOURCE.txt"), "w") as f:
    f.write("npm package emoji-datasource-%s (code and data MIT); pictures: %s\n" % (
        which, "Twemoji by Twitter, CC-BY 4.0" if which == "twitter" else "Noto Emoji by Google, Apache 2.0"))
for cls in sorted(counts):
    print("%6d  %s" % (counts[cls], cls))
print("%6d  pictures in %s" % (sum(counts.values()), out))
PY
