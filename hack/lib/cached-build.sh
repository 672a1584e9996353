# Sourced by the hack/ scripts that build tools into the shared cache ($KUBECTL_IRSA_CACHE/bin).
# Safe when several runs share the cache: each run builds into its own temporary file beside the target and
# renames it into place (rename is atomic; a run that loses the race replaces the file with the same bytes), and
# the NAME link is swapped the same way, so no run sees a half-written binary or a missing link.

cache=${KUBECTL_IRSA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
bin="$cache/bin"
mkdir -p "$bin"

# cached_build DIR NAME KEY PACKAGE [LDFLAGS]: builds PACKAGE, from the tools module in DIR, into $bin/NAME-KEY
# unless it is there, and points $bin/NAME at it.
cached_build() {
  local dir=$1 name=$2 key=$3 pkg=$4 ldflags=${5:-} out tmp
  out="$bin/$name-$key"
  if [[ ! -x "$out" ]]; then
    echo "building $name $key (first run only; cached in $bin)" >&2
    tmp=$(mktemp "$out.XXXXXX.tmp")
    if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags="-s $ldflags" -o "$tmp" "$pkg"); then
      rm -f "$tmp"
      return 1
    fi
    mv -f "$tmp" "$out"
  fi
  tmp=$(mktemp -u "$bin/.$name.XXXXXX")
  ln -s "$name-$key" "$tmp"
  mv -f "$tmp" "$bin/$name"
}
