#!/bin/sh
# A sharded PostgreSQL 15 on one machine, for trying and testing the churn
# extension past one server: three instances on 127.0.0.1, a coordinator and
# two shards, each with CREATE EXTENSION churn. The coordinator's `customers`
# is partitioned by hash of customerid into two postgres_fdw foreign tables,
# one on each shard (servers with extensions 'churn', so that IMMUTABLE churn
# functions are sent to the shards, and async_capable 'true', so that the
# shards work at the same time). The columns are Telco's, named the ordinary
# (lower-case) way; rows inserted or copied into the coordinator's customers
# go to their shard.
#
#   postgresql/cluster.sh start DIR              make (or restart) the cluster in DIR
#   postgresql/cluster.sh stop DIR               stop it (DIR is kept; rm -rf it to start over)
#   postgresql/cluster.sh status DIR             the nodes, their ports, running or not (exit 3: not all up)
#   postgresql/cluster.sh publish DIR NAME FILE  churn.load_model(NAME, FILE) on every node (same version)
#   postgresql/cluster.sh psql DIR NODE [ARGS]   psql on coord, shard1 or shard2
#
# Nothing is installed into the system: as tests/pgcluster.py, the server's
# programs are copied into DIR/pg with the rest of its tree linked and the
# extension (CHURN_BUILD, default <repo>/build: postgresql/churn.so and
# libchurn) added, since PostgreSQL 15 finds extensions only beside its own
# executable. Under root the servers run as `nobody` (PostgreSQL refuses
# root). DIR/ports lists NODE PORT lines; DIR/<node>/server.log the logs.
set -eu
usage() {
	sed -n '12,16p' "$0" | sed 's/^# *//' >&2
	exit 64
}
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CHURN_BUILD:-$root/build}
nodes="coord shard1 shard2"
user=
[ "$(id -u)" -ne 0 ] || user=nobody

as_user() {
	if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

port_of() {
	awk -v n="$1" '$1 == n { print $2 }' "$dir/ports"
}

sql() { # NODE SQL...
	node=$1
	shift
	"$dir/pg/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of "$node")" -U postgres -d postgres "$@"
}

# The server's tree under DIR/pg with the extension added; sets bin.
private_install() {
	so=$build/postgresql/churn.so
	[ -f "$so" ] || { echo "cluster: $so is not built (ninja -C $build)" >&2; exit 69; }
	command -v pg_config >/dev/null || { echo "cluster: pg_config not found (install postgresql-15)" >&2; exit 69; }
	sysbin=$(pg_config --bindir) sysshare=$(pg_config --sharedir) syslib=$(pg_config --pkglibdir)
	[ -x "$sysbin/postgres" ] || { echo "cluster: $sysbin/postgres is absent (install postgresql-15)" >&2; exit 69; }
	prefix=$(/usr/bin/python3 -c 'import os, sys; print(os.path.commonpath(sys.argv[1:]))' "$sysbin" "$sysshare" "$syslib")
	tree=$dir/tree
	bin=$tree${sysbin#"$prefix"} share=$tree${sysshare#"$prefix"} lib=$tree${syslib#"$prefix"}
	mkdir -p "$bin" "$share/extension" "$lib"
	for p in postgres initdb pg_ctl psql; do cp -p "$sysbin/$p" "$bin/"; done
	for e in "$sysshare"/*; do [ "${e##*/}" = extension ] || ln -sfn "$e" "$share/"; done
	for e in "$syslib"/*; do ln -sfn "$e" "$lib/"; done
	for e in "$sysshare"/extension/*; do ln -sfn "$e" "$share/extension/"; done
	cp "$root/postgresql/churn.control" "$root"/postgresql/churn--*.sql "$share/extension/"
	rm -f "$lib/churn.so"
	cp "$so" "$lib/churn.so"
	ln -sfn "$bin" "$dir/pg"
	find "$dir" -type d -exec chmod 755 {} +
}

free_ports() {
	/usr/bin/python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

start_node() { # NODE
	node=$1
	opts="-p $(port_of "$node") -k $dir/$node -c listen_addresses=127.0.0.1 -c fsync=off -c max_worker_processes=8"
	as_user env LD_LIBRARY_PATH="$build/libchurn" "$dir/pg/pg_ctl" -D "$dir/$node" -l "$dir/$node/server.log" \
		-o "$opts" -w start >/dev/null
}

# Telco's columns, as a table made the ordinary way (unquoted names; TotalCharges has blanks: text).
COLUMNS="customerid text NOT NULL, gender text, seniorcitizen integer, partner text, dependents text,
	tenure integer, phoneservice text, multiplelines text, internetservice text, onlinesecurity text,
	onlinebackup text, deviceprotection text, techsupport text, streamingtv text, streamingmovies text,
	contract text, paperlessbilling text, paymentmethod text, monthlycharges numeric, totalcharges text,
	churn text"

setup() {
	for n in shard1 shard2; do
		sql "$n" -c "CREATE EXTENSION churn; CREATE TABLE customers ($COLUMNS, PRIMARY KEY (customerid));"
	done
	sql coord <<EOF
CREATE EXTENSION churn;
CREATE EXTENSION postgres_fdw;
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '127.0.0.1', port '$(port_of shard1)', dbname 'postgres', extensions 'churn',
	         async_capable 'true', batch_size '1000', fetch_size '10000');
CREATE SERVER shard2 FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '127.0.0.1', port '$(port_of shard2)', dbname 'postgres', extensions 'churn',
	         async_capable 'true', batch_size '1000', fetch_size '10000');
CREATE USER MAPPING FOR PUBLIC SERVER shard1 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR PUBLIC SERVER shard2 OPTIONS (user 'postgres');
CREATE TABLE customers ($COLUMNS) PARTITION BY HASH (customerid);
CREATE FOREIGN TABLE customers_shard1 PARTITION OF customers FOR VALUES WITH (MODULUS 2, REMAINDER 0)
	SERVER shard1 OPTIONS (table_name 'customers');
CREATE FOREIGN TABLE customers_shard2 PARTITION OF customers FOR VALUES WITH (MODULUS 2, REMAINDER 1)
	SERVER shard2 OPTIONS (table_name 'customers');
EOF
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/ports" ]; then
		for n in $nodes; do
			as_user "$dir/pg/pg_ctl" -D "$dir/$n" status >/dev/null 2>&1 || start_node "$n"
		done
		exit 0
	fi
	private_install
	set -- $(free_ports)
	: >"$dir/ports.new"
	for n in $nodes; do
		echo "$n $1" >>"$dir/ports.new"
		shift
		mkdir -p "$dir/$n"
		[ -z "$user" ] || chown "$user" "$dir/$n"
		chmod 700 "$dir/$n"
		as_user "$dir/pg/initdb" -D "$dir/$n" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
	done
	mv "$dir/ports.new" "$dir/ports"
	for n in $nodes; do start_node "$n"; done
	setup
	echo "cluster: coordinator on 127.0.0.1:$(port_of coord), shards on $(port_of shard1) and $(port_of shard2)"
	;;
stop)
	[ -f "$dir/ports" ] || exit 0
	for n in $nodes; do
		if [ -f "$dir/$n/postmaster.pid" ]; then
			as_user "$dir/pg/pg_ctl" -D "$dir/$n" -m fast -w stop >/dev/null 2>&1 ||
				as_user "$dir/pg/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true
		fi
	done
	;;
status)
	[ -f "$dir/ports" ] || { echo "cluster: nothing in $dir" >&2; exit 3; }
	rc=0
	for n in $nodes; do
		if as_user "$dir/pg/pg_ctl" -D "$dir/$n" status >/dev/null 2>&1; then s=running; else s=stopped rc=3; fi
		echo "$n 127.0.0.1:$(port_of "$n") $s"
	done
	exit $rc
	;;
publish)
	[ $# -eq 2 ] || usage
	name=$1 file=$2
	[ -r "$file" ] || { echo "cluster: cannot read $file" >&2; exit 66; }
	versions=
	for n in $nodes; do
		v=$(sql "$n" -At -v name="$name" -v file="$file" <<'EOF'
\set art `cat :'file'`
SELECT churn.load_model(:'name', :'art'::jsonb);
EOF
)
		versions="$versions $v"
	done
	set -- $versions
	if [ "$1" != "$2" ] || [ "$1" != "$3" ]; then
		echo "cluster: $name got versions$versions on coord, shard1, shard2: load models through this command only" >&2
		exit 65
	fi
	echo "$name@$1"
	;;
psql)
	[ $# -ge 1 ] || usage
	node=$1
	shift
	sql "$node" "$@"
	;;
*)
	usage
	;;
esac
