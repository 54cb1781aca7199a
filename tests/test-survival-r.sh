#!/bin/sh
# libchurn's Cox model against R's survival::coxph(ties = "efron") on the
# Telco file: the design is libchurn's prep with tenure as the time, Churn as
# the event and the time-leaking column (TotalCharges) left out
# (tests/survival-dump.c writes it). Coefficients and standard errors must
# agree to 1e-6 relative, the concordance (R's concordance(fit)) to 1e-6, the
# same columns must be aliased (NA in R) and the baseline cumulative hazard
# must be basehaz(fit, centered = TRUE) at the event times.
# usage: test-survival-r.sh SURVIVAL_DUMP      (exit 77: skipped)
set -eu
dump=$1
if [ -z "${CHURN_TELCO_CSV:-}" ] || [ ! -f "${CHURN_TELCO_CSV:-}" ]; then
	echo "SKIP: CHURN_TELCO_CSV is not set (the Telco file)"; exit 77
fi
if ! command -v Rscript >/dev/null 2>&1; then
	echo "SKIP: Rscript not found (Debian: r-base-core r-cran-survival; scripts/deps.sh)"; exit 77
fi
if ! Rscript -e 'suppressMessages(library(survival))' >/dev/null 2>&1; then
	echo "SKIP: the R package survival is not installed (Debian: r-cran-survival)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dump" "$CHURN_TELCO_CSV" "$tmp"
grep -q '"leaks": \["TotalCharges"\]' "$tmp/result.json" || {
	echo "FAIL: the time leaks are not exactly TotalCharges: $(grep -o '"leaks": [^]]*]' "$tmp/result.json")"
	exit 1
}
cat >"$tmp/check.R" <<'REOF'
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(file.path(args[1], "design.csv"))
# result.json is flat and written by survival-dump: read its arrays with a regex, no JSON package needed
txt <- paste(readLines(file.path(args[1], "result.json")), collapse = " ")
arr <- function(key) {
	m <- regmatches(txt, regexpr(paste0('"', key, '": \\[[^]]*\\]'), txt))
	body <- sub('^[^[]*\\[', '', sub('\\]$', '', m))
	if (nchar(trimws(body)) == 0) return(character(0))
	trimws(strsplit(body, ",")[[1]])
}
num <- function(key) as.numeric(sub(paste0('.*"', key, '": ([-0-9.eE+]+).*'), "\\1", txt))
coef_c <- as.numeric(arr("coef")); se_c <- as.numeric(arr("se")); alias_c <- arr("aliased") == "true"
bt_c <- as.numeric(arr("baseline_time")); bh_c <- as.numeric(arr("baseline_hazard"))
xs <- grep("^x", names(d), value = TRUE)
f <- as.formula(paste("Surv(time, event) ~", paste(xs, collapse = " + ")))
fit <- suppressWarnings(coxph(f, data = d, ties = "efron"))
b <- coef(fit)
alias_r <- is.na(b)
bad <- 0
check <- function(what, ok) { if (!ok) { cat("FAIL:", what, "\n"); bad <<- bad + 1 } }
check(sprintf("aliased columns: R %s, libchurn %s", paste(which(alias_r), collapse = ","),
              paste(which(alias_c), collapse = ",")), identical(unname(alias_r), alias_c))
keep <- !alias_r
se_r <- sqrt(diag(fit$var))[keep]
rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))
rc <- rel(coef_c[keep], unname(b[keep])); rs <- rel(se_c[keep], unname(se_r))
check(sprintf("coefficients differ by %.3g relative", rc), rc <= 1e-6)
check(sprintf("standard errors differ by %.3g relative", rs), rs <= 1e-6)
conc_r <- unname(concordance(fit)$concordance); conc_c <- num("concordance")
check(sprintf("concordance R %.10f, libchurn %.10f", conc_r, conc_c), abs(conc_r - conc_c) <= 1e-6)
ll_r <- fit$loglik[2]; ll_c <- num("loglik")
check(sprintf("log likelihood R %.10f, libchurn %.10f", ll_r, ll_c), abs(ll_r - ll_c) <= 1e-6 * abs(ll_r))
bh <- basehaz(fit, centered = TRUE)
bh_r <- approx(bh$time, bh$hazard, xout = bt_c, method = "constant", rule = 2)$y
rb <- rel(bh_c, bh_r)
check(sprintf("baseline hazard differs by %.3g relative", rb), rb <= 1e-6)
cat(sprintf("survival-r: %d rows, %d columns (%d aliased), %d iterations (R %d); max relative difference: coef %.2g, se %.2g, baseline %.2g; concordance %.8f (R %.8f)\n",
            nrow(d), length(xs), sum(alias_r), as.integer(num("iterations")), fit$iter, rc, rs, rb, conc_c, conc_r))
quit(status = if (bad) 1 else 0)
REOF
Rscript "$tmp/check.R" "$tmp"
