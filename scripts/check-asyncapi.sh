#!/usr/bin/env bash
# Validates AsyncAPI documents with AsyncAPI's own parser (@asyncapi/parser).
#
#   scripts/check-asyncapi.sh FILE...
#
# The parser is installed with npm into a temporary directory (removed on
# exit; never part of the repository). Exits non-zero, printing the
# parser's diagnostics, if any document has an error.
set -euo pipefail
PARSER_VERSION="${ASYNCAPI_PARSER_VERSION:-3.6.6}"
if [ "$#" -eq 0 ]; then
  echo "usage: $0 FILE..." >&2; exit 2
fi
files=()
for f in "$@"; do
  [ -f "$f" ] || { echo "check-asyncapi: no such file: $f" >&2; exit 2; }
  files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== installing @asyncapi/parser@$PARSER_VERSION into a temp dir"
(cd "$tmp" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "@asyncapi/parser@$PARSER_VERSION" >/dev/null)
cat >"$tmp/check.js" <<'JS'
const fs = require('fs');
const { Parser } = require('@asyncapi/parser');
const severities = ['error', 'warning', 'info', 'hint'];
(async () => {
  const parser = new Parser();
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'), { source: file });
    for (const d of diagnostics) {
      const where = d.path && d.path.length ? ' at ' + d.path.join('.') : '';
      console.log(`${file}: ${severities[d.severity] || d.severity}: ${d.code}: ${d.message}${where}`);
    }
    const errors = diagnostics.filter(d => d.severity === 0).length;
    if (!document || errors > 0) {
      failed = true;
      console.log(`${file}: INVALID (${errors} error(s))`);
    } else {
      console.log(`${file}: valid AsyncAPI ${document.version()}`);
    }
  }
  process.exit(failed ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
JS
(cd "$tmp" && node check.js "${files[@]}")
