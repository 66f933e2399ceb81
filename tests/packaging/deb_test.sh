#!/usr/bin/env bash
# Builds the .deb with cpack and proves it is what an operator needs:
#   - the archive holds the daemon, the bundled plugins, the unit, the
#     sysusers.d file, the configuration (as conffiles), the plugin-author
#     files, and the unit exactly as systemd/kerberusd.service;
#   - /usr/share/doc/kerberus holds copyright (DEP-5: it parses, and names
#     a licence Debian ships), changelog.Debian.gz (`gzip -9n`, parsed by
#     dpkg-parsechangelog, for the package's version), README.md,
#     docs/*.md and the plugins' READMEs as in the tree; the examples are
#     in /usr/share/kerberus/examples; lintian, when installed, reports no
#     error;
#   - the installed kerberus.yaml has the settings of config/kerberus.yaml
#     with the installed plugin directories;
#   - the control data has Depends from dpkg-shlibdeps and the maintainer
#     scripts;
#   - it installs into an empty root with dpkg, maintainer scripts included
#     (DPKG_ROOT mode: no chroot, no running systemd), creating the service
#     account and enabling the unit inside that root only;
#   - an upgrade keeps an edited conffile and replaces an unedited one;
#   - the installed daemon, on the installed configuration, serves
#     GET /api/hello/world;
#   - the installed hello example, copied out of the root, builds against
#     the installed CMake package and the installed daemon loads it;
#   - remove and purge clean up.
#
# usage: deb_test.sh <cpack> <build-dir> <source-dir>
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 <cpack> <build-dir> <source-dir>" >&2
    exit 2
fi
cpack=$1
build=$(cd "$2" && pwd)
src=$(cd "$3" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kerberus-deb-test.XXXXXX")
root=$tmp/root
daemon_log=$tmp/kerberusd.stderr
# shellcheck source=../lib/shell_test_support.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/shell_test_support.sh"

for tool in dpkg dpkg-deb dpkg-query dpkg-shlibdeps dpkg-parsechangelog perl gzip file curl cmake; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found (packages dpkg-dev, file, curl, cmake; .ci/install-deps installs them)"
done

# Against the empty root below: no chroot (the root has no shell), scripts
# see DPKG_ROOT; as a normal user dpkg also needs --force-not-root.
dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends)
[[ $(id -u) -eq 0 ]] || dpkg_root+=(--force-not-root)

step "cpack -G DEB"
out=$tmp/out
quiet timeout 240 "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$out"
debs=("$out"/kerberus_*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one kerberus_*.deb in $out, found: $(ls "$out")"
deb=${debs[0]}
echo "$(basename "$deb")"

step "dpkg-deb -c: the files"
listing=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
expect_listed() {
    grep -qE "^$1\$" <<<"$listing" || fail "not in the package: $1"$'\n'"$listing"
}
expect_listed /usr/bin/kerberusd
expect_listed '/usr/lib/([^/]+/)?kerberus/plugins/hello\.so\.[0-9]+\.[0-9]+\.[0-9]+'
expect_listed '/usr/lib/([^/]+/)?kerberus/plugins/echo\.so\.[0-9]+\.[0-9]+\.[0-9]+'
expect_listed '(/usr)?/lib/systemd/system/kerberusd\.service'
expect_listed '/usr/lib/sysusers\.d/kerberus\.conf'
expect_listed /etc/kerberus/kerberus.yaml
expect_listed /etc/kerberus/local.yaml
expect_listed /usr/include/kerberus/plugin.h
expect_listed /usr/include/kerberus/plugin.hpp
expect_listed '/usr/lib/([^/]+/)?cmake/Kerberus/KerberusConfig\.cmake'
expect_listed '/usr/lib/([^/]+/)?pkgconfig/kerberus\.pc'
expect_listed /usr/share/doc/kerberus/operating.md
expect_listed /usr/share/doc/kerberus/copyright
expect_listed /usr/share/doc/kerberus/changelog\.Debian\.gz
expect_listed /usr/share/doc/kerberus/README\.md
expect_listed /usr/share/doc/kerberus/writing-plugins\.md
expect_listed /usr/share/kerberus/examples/hello/hello\.c
expect_listed /usr/share/kerberus/examples/hello/CMakeLists\.txt
expect_listed /usr/share/kerberus/examples/echo/echo\.cpp
expect_listed /usr/share/kerberus/examples/echo/CMakeLists\.txt
expect_listed /usr/share/lintian/overrides/kerberus
# The licence is named in copyright, its text is Debian's own copy.
! grep -qE '^/usr/share/doc/kerberus/(LICENSE|COPYING)' <<<"$listing" ||
    fail "the package ships a licence file besides copyright"
stray=$(grep -vE '^/(etc|lib|usr)(/|$)' <<<"$listing" | grep -v '^/$' || true)
[[ -z $stray ]] || fail "files outside /etc, /lib and /usr:"$'\n'"$stray"

step "dpkg-deb -I: control data"
info=$(dpkg-deb -I "$deb")
[[ $(dpkg-deb -f "$deb" Package) == kerberus ]] || fail "package name is not kerberus"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for dep in libc6 libstdc++6 libsystemd0 libcurl4 libpistache0 libyaml-cpp; do
    [[ $depends == *"$dep"* ]] || fail "Depends lacks $dep (dpkg-shlibdeps): $depends"
done
[[ $depends == *systemd-sysusers* ]] || fail "Depends lacks a provider of systemd-sysusers: $depends"
for script in postinst prerm postrm conffiles; do
    grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +(\* +)?$script( |\$)" <<<"$info" || fail "no $script in the control archive:"$'\n'"$info"
done
control=$tmp/control
dpkg-deb -e "$deb" "$control"
for script in postinst prerm postrm; do
    [[ -x $control/$script ]] || fail "$script is not executable"
    sh -n "$control/$script" || fail "$script is not valid sh"
done
conffiles=$(cat "$control/conffiles")
for f in /etc/kerberus/kerberus.yaml /etc/kerberus/local.yaml; do
    grep -qx "$f" <<<"$conffiles" || fail "$f is not a conffile:"$'\n'"$conffiles"
done

step "contents: the unit as shipped, paths for /usr"
contents=$tmp/contents
dpkg-deb -x "$deb" "$contents"
unit_file=$(find "$contents" -path '*/systemd/system/kerberusd.service')
cmp -s "$unit_file" "$src/systemd/kerberusd.service" ||
    fail "the packaged unit differs from systemd/kerberusd.service:"$'\n'"$(diff "$src/systemd/kerberusd.service" "$unit_file")"
pc=$(find "$contents" -name kerberus.pc)
grep -qx 'prefix=/usr' "$pc" || fail "kerberus.pc does not say prefix=/usr:"$'\n'"$(cat "$pc")"
[[ $(file -b "$contents/usr/bin/kerberusd") == *stripped* && $(file -b "$contents/usr/bin/kerberusd") != *"not stripped"* ]] ||
    fail "kerberusd is not stripped"

# plugin_directories of the installed configuration, one per line.
plugin_directories() {
    awk '/^plugin_directories:/ { on = 1; next }
         on && /^[^ #]/ { on = 0 }
         on && /^ *- / { sub(/^ *- */, ""); sub(/ *#.*/, ""); gsub(/"/, ""); print }' "$1"
}
mapfile -t plugin_dirs < <(plugin_directories "$contents/etc/kerberus/kerberus.yaml")
[[ ${#plugin_dirs[@]} -ge 2 ]] || fail "expected the bundled and the local plugin directory in kerberus.yaml, got: ${plugin_dirs[*]}"
compgen -G "$contents${plugin_dirs[0]}/hello.so.*" >/dev/null ||
    fail "the first plugin directory of kerberus.yaml (${plugin_dirs[0]}) does not hold the bundled plugins"
# The installed default says what the development one says, bar the
# plugin directories and the development one's open routes (its
# auth.dangerouslyDisableDefaultAuthPolicy line: installed, every plugin
# route asks for a token).
settings() {
    awk '/^ *#/ || /^ *$/ { next }
         /^  dangerouslyDisableDefaultAuthPolicy: true/ { next }
         /^plugin_directories:/ { skip = 1; print; next }
         skip && /^ *- / { next }
         { skip = 0; print }' "$1"
}
drift=$(diff <(settings "$src/config/kerberus.yaml") <(settings "$contents/etc/kerberus/kerberus.yaml")) ||
    fail "the installed kerberus.yaml and config/kerberus.yaml differ in more than plugin_directories:"$'\n'"$drift"

step "contents: copyright, changelog, documentation"
doc=$contents/usr/share/doc/kerberus
# copyright: deb822 paragraphs (Dpkg's own parser) in the DEP-5 shape: the
# header with Format and Upstream-Name, Files paragraphs with Copyright
# and License, and a text for every licence they name.
licences=$(perl - "$doc/copyright" <<'EOF'
use strict;
use warnings;
use Dpkg::Control::HashCore;

my $file = shift;
open my $fh, '<', $file or die "cannot open $file: $!\n";
my @paragraphs;
while (1) {
    my $p = Dpkg::Control::HashCore->new;
    last unless $p->parse($fh, $file);
    push @paragraphs, $p;
}
my $header = shift @paragraphs or die "empty\n";
my $format = 'https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/';
($header->{Format} // '') eq $format or die "the header's Format is not $format\n";
defined $header->{'Upstream-Name'} or die "the header has no Upstream-Name\n";
my (%named, %text);
for my $p (@paragraphs) {
    defined $p->{License} or die "a paragraph without License\n";
    my ($name, $text) = split /\n/, $p->{License}, 2;
    if (defined $p->{Files}) {
        defined $p->{Copyright} or die "Files: $p->{Files}: no Copyright\n";
        $named{$name} = 1;
    }
    $text{$name} = 1 if defined $text;
}
%named or die "no Files paragraph\n";
for (sort keys %named) { $text{$_} or die "no text for the licence $_\n" }
print join("\n", sort keys %named), "\n";
EOF
) || fail "usr/share/doc/kerberus/copyright is not machine-readable (DEP-5):"$'\n'"$(cat "$doc/copyright")"
echo "licences: $licences"
[[ $licences == Apache-2.0 ]] || fail "copyright names other licences than Apache-2.0: $licences"
grep -qF /usr/share/common-licenses/Apache-2.0 "$doc/copyright" ||
    fail "copyright does not refer to /usr/share/common-licenses/Apache-2.0"
# changelog.Debian.gz: exactly what `gzip -9n` makes of it (no name, no
# time stamp), parsed by dpkg, for this package and version.
changelog=$doc/changelog.Debian.gz
gzip -dc "$changelog" | gzip -9n | cmp -s - "$changelog" || fail "changelog.Debian.gz is not compressed with gzip -9n"
parsed=$(dpkg-parsechangelog -l "$changelog" 2>&1) || fail "dpkg-parsechangelog rejects changelog.Debian.gz:"$'\n'"$parsed"
[[ $(dpkg-parsechangelog -l "$changelog" -S Source) == kerberus ]] || fail "changelog.Debian.gz is not for the source kerberus:"$'\n'"$parsed"
[[ $(dpkg-parsechangelog -l "$changelog" -S Version) == "$(dpkg-deb -f "$deb" Version)" ]] ||
    fail "changelog.Debian.gz is for $(dpkg-parsechangelog -l "$changelog" -S Version), the package is $(dpkg-deb -f "$deb" Version)"
expect_copy() {
    cmp -s "$contents/$1" "$2" || fail "${1#/} is not ${2#"$src"/}"
}
expect_copy /usr/share/doc/kerberus/README.md "$src/README.md"
for guide in "$src"/docs/*.md; do
    expect_copy "/usr/share/doc/kerberus/${guide##*/}" "$guide"
done
for readme in "$src"/plugins/*/README.md; do
    expect_copy "/usr/share/doc/kerberus/plugins/$(basename "$(dirname "$readme")")/README.md" "$readme"
done
expect_copy /usr/share/kerberus/examples/hello/hello.c "$src/plugins/hello/hello.c"
expect_copy /usr/share/kerberus/examples/echo/echo.cpp "$src/plugins/echo/echo.cpp"

if command -v lintian >/dev/null 2>&1; then
    step "lintian: no errors"
    lint=$(lintian "$deb" 2>&1) || true
    echo "$lint"
    ! grep -q '^E: ' <<<"$lint" || fail "lintian reports errors"
else
    echo "lintian not found; not run"
fi

step "dpkg -i into an empty root (maintainer scripts with DPKG_ROOT)"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
quiet "${dpkg_root[@]}" -i "$deb"
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' kerberus)
[[ $status == "install ok installed" ]] || fail "dpkg status of kerberus: $status"
for f in /usr/bin/kerberusd /etc/kerberus/kerberus.yaml /etc/kerberus/local.yaml \
    "${unit_file#"$contents"}" /usr/lib/sysusers.d/kerberus.conf /usr/include/kerberus/plugin.h; do
    [[ -e $root$f ]] || fail "not installed: $f"
done
registered=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}' kerberus)
grep -q '/etc/kerberus/kerberus.yaml ' <<<"$registered" || fail "dpkg did not register the conffiles:"$'\n'"$registered"
[[ -d $root${plugin_dirs[1]} ]] || fail "postinst did not create the local plugin directory ${plugin_dirs[1]}"
if command -v systemd-sysusers >/dev/null 2>&1; then
    grep -q '^kerberus:' "$root/etc/passwd" || fail "postinst did not create the user kerberus in the root"
fi
if command -v deb-systemd-helper >/dev/null 2>&1; then
    [[ -L $root/etc/systemd/system/multi-user.target.wants/kerberusd.service ]] ||
        fail "postinst did not enable kerberusd.service in the root"
fi

step "upgrade: an edited conffile stays, an unedited one is replaced"
echo "# edited by the administrator" >>"$root/etc/kerberus/local.yaml"
repack=$tmp/repack
dpkg-deb -R "$deb" "$repack"
version=$(dpkg-deb -f "$deb" Version)
sed -i "s/^Version: .*/Version: $version+upgrade1/" "$repack/DEBIAN/control"
echo "# shipped by the upgrade" >>"$repack/etc/kerberus/kerberus.yaml"
(cd "$repack" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum >DEBIAN/md5sums)
quiet dpkg-deb --root-owner-group -b "$repack" "$tmp/upgrade.deb"
quiet "${dpkg_root[@]}" --force-confdef --force-confold -i "$tmp/upgrade.deb" </dev/null
grep -q '^# edited by the administrator$' "$root/etc/kerberus/local.yaml" ||
    fail "the upgrade overwrote the administrator's local.yaml"
grep -q '^# shipped by the upgrade$' "$root/etc/kerberus/kerberus.yaml" ||
    fail "the upgrade did not update the unedited kerberus.yaml"

step "the installed kerberusd serves on the installed configuration"
# Only the listeners and the absolute plugin directories change: the root
# is not at /.
{
    echo 'server: { listen: "127.0.0.1:0" }'
    echo 'admin: { listen: "127.0.0.1:0" }'
    # The installed default asks every caller for a token: this one.
    echo 'auth: { externalAccess: [ { type: static, options: { token: deb-test-token, subject: deb-test } } ] }'
    echo 'plugin_directories:'
    for dir in "${plugin_dirs[@]}"; do echo "  - \"$root$dir\""; done
} >"$tmp/test-layer.yaml"
configs=(--config "$root/etc/kerberus/kerberus.yaml" --config "$root/etc/kerberus/local.yaml"
    --config "$tmp/test-layer.yaml")
check=$(timeout 30 "$root/usr/bin/kerberusd" "${configs[@]}" --check 2>&1) ||
    fail "kerberusd --check on the installed configuration failed:"$'\n'"$check"
grep -qE '^hello +[0-9.]+ .* ok ' <<<"$check" || fail "kerberusd --check does not list hello as ok:"$'\n'"$check"
"$root/usr/bin/kerberusd" "${configs[@]}" 2>"$daemon_log" >/dev/null &
daemon_pid=$!
wait_for_serving
status=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/hello/world")
[[ $status == 401 ]] || fail "GET /api/hello/world without a token: expected 401, got $status"
body=$(curl -fsS --max-time 5 -H 'Authorization: Bearer deb-test-token' "http://127.0.0.1:$port/api/hello/world") ||
    fail "GET /api/hello/world with the token failed"
[[ $body == "Hello, world!" ]] || fail "GET /api/hello/world: expected 'Hello, world!', got '$body'"
curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$port/.kerberus/health/v1/readiness" || fail "not ready"
! grep -q 'does not exist' "$daemon_log" || fail "a plugin directory of the installed configuration is missing:"$'\n'"$(cat "$daemon_log")"
kill -TERM "$daemon_pid"
for _ in $(seq 150); do  # 15 s
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$daemon_pid" 2>/dev/null && fail "kerberusd did not exit within 15 s of SIGTERM"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[[ $rc -eq 0 ]] || fail "kerberusd exited with status $rc after SIGTERM"

step "the hello example builds against the installed package and loads"
# As a plugin author on a machine with the package: copy the example and
# build it. The root is not at /, so the CMake package is found through
# CMAKE_PREFIX_PATH; it must be the one in the root.
cp -R "$root/usr/share/kerberus/examples/hello" "$tmp/hello-example"
quiet cmake -S "$tmp/hello-example" -B "$tmp/hello-example/build" -DCMAKE_PREFIX_PATH="$root/usr" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-Werror
kerberus_dir=$(sed -n 's/^Kerberus_DIR:PATH=//p' "$tmp/hello-example/build/CMakeCache.txt")
[[ $kerberus_dir == "$root"/usr/lib/* ]] || fail "the hello example did not use the package in the root: Kerberus_DIR=$kerberus_dir"
quiet cmake --build "$tmp/hello-example/build"
printf 'plugin_directories: [ "%s" ]\n' "$tmp/hello-example/build" >"$tmp/hello-example.yaml"
check=$(timeout 30 "$root/usr/bin/kerberusd" --config "$tmp/hello-example.yaml" --check 2>&1) ||
    fail "kerberusd --check on the hello example failed:"$'\n'"$check"
grep -qE "^hello +[0-9.]+ .* ok +checked +$tmp/hello-example/build/hello\.so\.[0-9.]+( |\$)" <<<"$check" ||
    fail "kerberusd --check does not load the hello example:"$'\n'"$check"

step "remove keeps the configuration, purge removes it"
quiet "${dpkg_root[@]}" -r kerberus
[[ ! -e $root/usr/bin/kerberusd ]] || fail "dpkg -r left /usr/bin/kerberusd"
[[ -e $root/etc/kerberus/local.yaml ]] || fail "dpkg -r removed the configuration"
[[ ! -e $root${plugin_dirs[1]} ]] || fail "postrm left the empty local plugin directory"
quiet "${dpkg_root[@]}" -P kerberus
[[ ! -e $root/etc/kerberus ]] || fail "dpkg -P left /etc/kerberus"
[[ ! -e $root/etc/systemd/system/multi-user.target.wants/kerberusd.service ]] ||
    fail "dpkg -P left the unit enabled"

step "PASS"
