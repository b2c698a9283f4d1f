# Shared by scripts/fetch-synth-sources.sh, scripts/score-peers.sh and
# scripts/bench_page_ort.sh (sourced): pinned registry downloads (PyPI, npm, Debian),
# checked by SHA-256, with errors that name the package. The caller sets `cache`
# (download folder), `mode` (`verify` refuses to download) and, optionally,
# `pip_platform` (extra `pip download` flags for wheels of another platform).

die() {
  echo "error: $*" >&2
  exit 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# The machine's own Debian mirror: the first Debian address of its apt sources
# (deb822 `URIs:` or one-line `deb` entries).
debian_mirror() {
  local found
  found=$({
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      awk '{for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break }}' || true
  } | grep -i debian | head -1)
  [[ -n "$found" ]] && echo "$found"
}

# Downloads one Debian package at an exact version from SUITE (e.g. trixie, when the
# machine runs an older release) through the machine's mirror, with a private package
# list under the cache: the system's apt configuration is not changed.
fetch_deb() {
  local suite=$1 name=$2 version=$3 dir=$4 mirror apt
  mirror=$(debian_mirror) || {
    echo "no Debian mirror in /etc/apt/sources*" >&2
    return 1
  }
  apt=$(realpath "$cache")/apt-$suite
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$apt/sources.list"
  local options=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
    -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false -o APT::Sandbox::User=root)
  apt-get -qq "${options[@]}" update >&2 || return 1
  (cd "$dir" && apt-get -qq "${options[@]}" download "$name=$version" >&2)
}

# Downloads (unless --verify-only) and checks one archive; prints its path.
fetch_archive() {
  local key=$1 registry=$2 name=$3 version=$4 file=$5 sha=$6
  local dir="$cache/$key" path="$cache/$key/$file"
  if [[ ! -f "$path" ]]; then
    [[ $mode == verify ]] && die "$name $version: $path is not in the cache (run without --verify-only to download it)"
    mkdir -p "$dir"
    echo "== downloading $name $version ($registry)" >&2
    case "$registry" in
    pypi) pip download --quiet --no-deps --only-binary :all: "${pip_platform[@]}" \
      -d "$dir" "$name==$version" >&2 || die "$name $version: pip download failed" ;;
    pypi-sdist) pip download --quiet --no-deps --no-binary "$name" -d "$dir" "$name==$version" >&2 ||
      die "$name $version: pip download failed" ;;
    npm) (cd "$dir" && npm pack --silent "$name@$version" >/dev/null) || die "$name $version: npm pack failed" ;;
    debian:*) fetch_deb "${registry#debian:}" "$name" "$version" "$dir" ||
      die "$name $version: apt-get download from Debian ${registry#debian:} failed" ;;
    esac
    [[ -f "$path" ]] || die "$name $version: the download did not give $file"
  fi
  local got
  got=$(sha256_of "$path")
  [[ "$got" == "$sha" ]] ||
    die "$name $version: $path has SHA-256 $got, expected $sha (damaged or not the pinned file; delete it and run again)"
  echo "$path"
}
