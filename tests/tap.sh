# The TAP lines of the shell suites (test-pipeline.sh, test-registry.sh,
# test-drift.sh, test-commit.sh), sourced after they set tmp and pass=0 fail=0.
ok() { pass=$((pass + 1)); echo "ok - $1"; }
no() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # description, command...
	d=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$d"; else no "$d"; sed 's/^/#   /' "$tmp/out" | head -20; fi
}
expect_rc() { # description, expected rc, command...
	d=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$d (exit $rc)"; else no "$d: exit $rc, want $want"; sed 's/^/#   /' "$tmp/err" | head -10; fi
}
