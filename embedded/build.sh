#!/usr/bin/env bash
# Installs the embedded database's parts once: Debian's PostgreSQL 15 and build packages, then
# pgvector, pg_cron and DocumentDB built from the source snapshots in $VENDOR_DIR (sha256
# checked) into the system's PostgreSQL. Each step is skipped when what it makes is already
# there, so a second run does nothing. FerretDB itself is built by the Makefile (Go).
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR_DIR=${VENDOR_DIR:-../shared/vendor}
BUILD_DIR=${BUILD_DIR:-.build}/extensions
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

# name | file | sha256 | upstream tag (for users outside our machines)
SNAPSHOTS=(
  "pgvector|pgvector-0.8.0.tar.gz|93df40ccdaaaa267d1275c1e6e773004a0e5ff8e14227934a4ec7e8205d0f608|github.com/pgvector/pgvector v0.8.0"
  "pg_cron|pg_cron-1.6.4.tar.gz|1f4d3b9a8b173892c6689396f990960810e8824921e901962843aece1e5bd1ae|github.com/citusdata/pg_cron v1.6.4"
  "documentdb|documentdb-0.106.0-ferretdb-2.5.0.tar.gz|3ba0408eee7c3bc67933da50034092ee77e2aa79b61234c1216b0a1ffac21df1|github.com/FerretDB/documentdb v0.106.0-ferretdb-2.5.0"
)
# Debian 12's packages: PostgreSQL, the extensions DocumentDB requires that Debian has at a
# usable version (rum, PostGIS), and what the C builds need. Not postgresql-15-cron: its 1.4.2
# rejects DocumentDB's "2 seconds" schedule, so pg_cron 1.6.4 is built from the snapshot.
PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-rum postgresql-15-postgis-3
  libbson-dev libpcre2-dev libintelrdfpmath-dev pkg-config build-essential libicu-dev libkrb5-dev)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  step "Installing Debian packages: ${missing[*]}"
  sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  # No default cluster: the service runs a private one in DATA_DIR.
  "${sudo[@]}" mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

installed() {  # is extension $1 at the snapshot's version in the system's PostgreSQL?
  local share; share=$("$PG_CONFIG" --sharedir)/extension
  case $1 in
    pgvector) [[ -f $share/vector--0.8.0.sql ]] ;;
    pg_cron) [[ -f $share/pg_cron--1.5--1.6.sql && -f $("$PG_CONFIG" --pkglibdir)/pg_cron.so ]] ;;
    documentdb) grep -qs "default_version = '0.106-0'" "$share/documentdb.control" ;;
  esac
}

# Debian's libintelrdfpmath-dev has the library but no pkg-config file; DocumentDB asks for it
# as "intelmathlib".
PC_DIR=$PWD/$BUILD_DIR/pkgconfig
mkdir -p "$PC_DIR"
cat >"$PC_DIR/intelmathlib.pc" <<PC
Name: intelmathlib
Description: Intel decimal floating-point math library (Debian's libintelrdfpmath-dev)
Version: 2.0
Libs: -lbidgcc000
Cflags:
PC
export PKG_CONFIG_PATH=$PC_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}

for entry in "${SNAPSHOTS[@]}"; do
  IFS='|' read -r name file sha tag <<<"$entry"
  if installed "$name"; then continue; fi
  archive=$VENDOR_DIR/$file
  if [[ ! -f $archive ]]; then
    echo "error: $archive is missing." >&2
    echo "  It is the source snapshot of $tag (git archive of that tag)." >&2
    echo "  Put it there, or set VENDOR_DIR to the folder that holds it," >&2
    echo "  or point the service at another MongoDB-wire server with MONGODB_URI." >&2
    exit 1
  fi
  if ! echo "$sha  $archive" | sha256sum --check --status; then
    echo "error: $archive does not have the expected sha256 $sha ($tag)." >&2
    exit 1
  fi
  step "Building $name from $file (sha256 checked)"
  src=$BUILD_DIR/$name
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$archive" -C "$src" --strip-components=1
  case $name in
    pgvector|pg_cron)
      make -s -C "$src" -j2 PG_CONFIG="$PG_CONFIG" with_llvm=no >/dev/null
      make -s -C "$src" PG_CONFIG="$PG_CONFIG" with_llvm=no install >/dev/null ;;
    documentdb)
      # Debian's libbson 1.23 predates BSON_SUBTYPE_SENSITIVE (1.25); the JIT bitcode step
      # would not see COPT, hence with_llvm=no. No source is changed.
      for dir in pg_documentdb_core pg_documentdb; do
        make -s -C "$src/$dir" -j2 PG_CONFIG="$PG_CONFIG" with_llvm=no \
          COPT="-DBSON_SUBTYPE_SENSITIVE=0x08 -Wno-error=switch" >/dev/null
        make -s -C "$src/$dir" PG_CONFIG="$PG_CONFIG" with_llvm=no install >/dev/null
      done ;;
  esac
  installed "$name" || { echo "error: $name built but is not where PostgreSQL looks" >&2; exit 1; }
done
