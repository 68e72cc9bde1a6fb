#!/usr/bin/env bash
# Refresh the vendored front-end packages from npm: the compiled NHS.UK frontend
# and htmx for the pages (here), axe-core for the browser tests
# (tests/browser/vendor). Pages load nothing from a CDN, so this is the only place
# these files come from. Usage: refresh.sh [NHSUK_VERSION HTMX_VERSION AXE_VERSION]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
nhsuk="${1:-10.6.1}"
htmx="${2:-4.0.1}"
axe="${3:-4.14.1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() { # package version -> directory of the unpacked package
    (cd "$work" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$1" && tar xzf "$1-$2.tgz" -C "$1")
    echo "$work/$1/package"
}

# NHS.UK frontend: the minified CSS and JS module, and the images the CSS uses.
# Its stylesheet points at /assets/ (made relative here) and loads the Frutiger
# web font from assets.nhs.uk, a CDN, whose @font-face rules are dropped: the
# pages fall back to Arial, as the frontend does wherever the font is not licensed.
package="$(unpack nhsuk-frontend "$nhsuk")"
target="$here/nhsuk-frontend"
rm -rf "$target" && mkdir -p "$target/assets/images"
python3 - "$package/dist/nhsuk/nhsuk-frontend.min.css" "$target/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css = re.sub(r"@font-face\{[^}]*assets\.nhs\.uk[^}]*\}", "", css)
css = css.replace("url(/assets/", "url(assets/")
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
assert "https://" not in css, "the stylesheet still loads something from elsewhere"
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
sed -e 's|//# sourceMappingURL=.*$||' "$package/dist/nhsuk/nhsuk-frontend.min.js" \
    > "$target/nhsuk-frontend.min.js"
for image in $(grep -o 'url(assets/images/[^)]*)' "$target/nhsuk-frontend.min.css" | sort -u \
        | sed -e 's|url(assets/images/||' -e 's|)||') favicon.ico favicon.svg; do
    cp "$package/dist/nhsuk/assets/images/$image" "$target/assets/images/"
done
# The npm package carries no licence file; its package.json says MIT, and the
# repository's LICENSE (github.com/nhsuk/nhsuk-frontend) is kept beside it.
test -f "$here/LICENCE-nhsuk-frontend" || { echo "LICENCE-nhsuk-frontend is missing" >&2; exit 1; }

# htmx: its minified script and licence.
package="$(unpack htmx.org "$htmx")"
mkdir -p "$here/htmx"
sed -e 's|//# sourceMappingURL=.*$||' "$package/dist/htmx.min.js" > "$here/htmx/htmx.min.js"
cp "$package/LICENSE" "$here/LICENCE-htmx"

# axe-core, for the accessibility checks of the browser tests only.
package="$(unpack axe-core "$axe")"
cp "$package/axe.min.js" "$root/tests/browser/vendor/axe.min.js"
cp "$package/LICENSE" "$root/tests/browser/vendor/LICENCE-axe-core"

sums() { (cd "$1" && find . -type f ! -name '*.md' ! -name '*.sh' | sort | xargs sha256sum); }
cat > "$here/VENDORED.md" <<MD
# Vendored front-end packages

Written by \`refresh.sh\`, which fetches them from npm (\`npm pack\`); do not edit by
hand. The pages load these from \`/static/vendor/\` and nothing from a CDN.

| Package | Version | Licence | Files |
|---|---|---|---|
| [nhsuk-frontend](https://www.npmjs.com/package/nhsuk-frontend) | $nhsuk | MIT (\`LICENCE-nhsuk-frontend\`) | \`nhsuk-frontend/\`: the minified CSS (Frutiger @font-face rules from assets.nhs.uk removed, asset URLs made relative), the JS module, the images the CSS uses and the favicon |
| [htmx.org](https://www.npmjs.com/package/htmx.org) | $htmx | 0BSD (\`LICENCE-htmx\`) | \`htmx/htmx.min.js\` |
| [axe-core](https://www.npmjs.com/package/axe-core) | $axe | MPL-2.0 (\`tests/browser/vendor/LICENCE-axe-core\`) | \`tests/browser/vendor/axe.min.js\`, for the tests only, never served |

## SHA-256

\`\`\`
$(sums "$here")
$(cd "$root" && sha256sum tests/browser/vendor/axe.min.js)
\`\`\`
MD
echo "vendored nhsuk-frontend $nhsuk, htmx.org $htmx, axe-core $axe"
