# Shared by scripts/fetch-synth-sources.sh and scripts/score-peers.sh (sourced): pinned
# registry downloads, checked by SHA-256, with errors that name the package. The caller
# sets `cache` (download folder), `mode` (`verify` refuses to download) and, optionally,
# `pip_platform` (extra `pip download` flags for wheels of another platform).

die() {
  echo "error: $*" >&2
  exit 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

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
    esac
    [[ -f "$path" ]] || die "$name $version: the download did not give $file"
  fi
  local got
  got=$(sha256_of "$path")
  [[ "$got" == "$sha" ]] ||
    die "$name $version: $path has SHA-256 $got, expected $sha (damaged or not the pinned file; delete it and run again)"
  echo "$path"
}
