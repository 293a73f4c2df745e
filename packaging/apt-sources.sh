# Sourced, not run: by packaging/build-image.sh and Tests/packaging/lib.sh.
#
# apt_source_uri <suite>: the URI of this machine's apt source ("deb" type)
# for that suite, from deb822 files (/etc/apt/sources.list.d/*.sources) or
# one-line lists (/etc/apt/sources.list, *.list); prints nothing if there is
# none. Always returns 0.
apt_source_uri() {
    local suite=$1 f uri=
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        uri=$(awk -v suite="$suite" 'BEGIN { RS = "" }
            { uri = ""; ok = 0; deb = 0
              n = split($0, lines, "\n")
              for (i = 1; i <= n; i++) {
                  if (lines[i] ~ /^Types:/ && lines[i] ~ /[[:space:]]deb([[:space:]]|$)/) deb = 1
                  if (lines[i] ~ /^URIs:/) { split(lines[i], u, /[[:space:]]+/); uri = u[2] }
                  if (lines[i] ~ /^Suites:/) { m = split(lines[i], s, /[[:space:]]+/)
                      for (j = 2; j <= m; j++) if (s[j] == suite) ok = 1 }
              }
              if (deb && ok && uri != "") { print uri; exit } }' "$f")
        [[ -n $uri ]] && { echo "$uri"; return 0; }
    done
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
        awk -v suite="$suite" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {
            if ($(i + 1) == suite) { print $i; exit } break } }'
    return 0
}
