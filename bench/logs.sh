#!/usr/bin/env bash
# Benchmarks `kubectl irsa doctor --logs-file` (bin/kubectl-irsa, which serves
# it without its full CLI bin/irsa-core; both built if missing) against
# `grep -c AccessDenied` on two synthetic ~200 MiB Kubernetes workload logs,
# each with about one line in 500 an AWS credential error:
#   long:  lines of about 150 bytes (klog, JSON/zap, logfmt, access logs,
#          Java and Python lines, stack traces);
#   short: lines of 80-100 bytes (klog, JSON health checks, access lines of
#          probes), the errors being the positive lines of
#          pkg/logclass/testdata/sdk_lines.tsv.
# For each log the contenders (grep, doctor, and logclass.Scan alone,
# bench/logscan) run interleaved for ROUNDS rounds; the best round of each
# counts.
#
#   bench/logs.sh [SIZE_MIB [ROUNDS]]
#
# Prints each wall time and MiB/s (and CPU time), the ratio grep -c time / doctor time
# (doctor's throughput over grep's) for each log, doctor's peak RSS and the
# baseline RSS of `kubectl irsa version` (which runs in the full CLI,
# irsa-core: the baseline of any command); exits non-zero if doctor is slower
# than grep on either log (MIN_RATIO, default 1.0) or its peak RSS is more
# than MAX_RSS_DELTA_MIB (default 8) above the baseline.
#
# The logs are generated deterministically once and cached in
# BENCH_CACHE (default ~/.cache/kubectl-irsa/bench), keyed by a hash of
# their generator, its input and the size; PROFILES (default "long short")
# picks the logs; LOG=FILE benchmarks an existing log instead.
set -euo pipefail

# calc EXPR: floating point arithmetic (awk, so no bc needed).
calc() { awk "BEGIN { print $1 }"; }

size_mib=${1:-200}
rounds=${2:-5}
min_ratio=${MIN_RATIO:-1.0}
max_rss_delta_mib=${MAX_RSS_DELTA_MIB:-8}
profiles=${PROFILES:-long short}
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=${PLUGIN:-$root/bin/kubectl-irsa}
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/bench}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/logclass-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# gen_long BYTES: the long-line log on stdout.
gen_long() {
  awk -v target="$1" '
  function hex(n,   s) { s = ""; while (n-- > 0) s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1); return s }
  function pick(s,   a, n) { n = split(s, a, "|"); return a[int(rand() * n) + 1] }
  function ts() { return sprintf("2024-05-%02dT%02d:%02d:%02d.%03dZ", 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000)) }
  BEGIN {
    srand(20240501)
    n = 0
    while (n < target) {
      r = rand()
      if (r < 0.22) {
        line = sprintf("I05%02d %02d:%02d:%02d.%06d       1 %s] \"%s\" object=\"%s/%s-%s\" reconcileID=\"%s-%s\" duration=\"%.1fms\"",
          1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000000),
          pick("controller.go:148|reconciler.go:311|queue.go:92|cache.go:57|leaderelection.go:260"),
          pick("Reconciling|Reconcile successful|Updated status|Enqueued object|Skipping unchanged object|Starting workers"),
          pick("default|kube-system|payments|web|monitoring|data"), pick("api|web|worker|cron|ingest|gateway"), hex(5),
          hex(8), hex(4), rand() * 250)
      } else if (r < 0.45) {
        line = sprintf("{\"level\":\"%s\",\"ts\":%d.%06d,\"logger\":\"%s\",\"msg\":\"%s\",\"namespace\":\"%s\",\"name\":\"%s-%s\",\"region\":\"%s\",\"requestID\":\"%s-%s-%s\",\"latency\":%.3f}",
          pick("info|info|info|debug|warn"), 1714550400 + int(rand() * 2000000), int(rand() * 1000000),
          pick("controller.ingress|controller.service|backend-sg-provider|targetGroupBinding|webhook"),
          pick("successfully deployed model|cache hit|registered targets|deregistered targets|observed a change|reconcile finished|updating status|resolved security groups"),
          pick("default|payments|web|monitoring"), pick("api|web|checkout|search"), hex(6), pick("us-east-1|eu-west-1|ap-southeast-2"),
          hex(8), hex(4), hex(12), rand())
      } else if (r < 0.62) {
        line = sprintf("%d.%d.%d.%d - - [%02d/May/2024:%02d:%02d:%02d +0000] \"%s %s HTTP/1.1\" %s %d \"-\" \"%s\" %.3f",
          10, int(rand() * 255), int(rand() * 255), int(rand() * 255), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60),
          pick("GET|GET|GET|POST|PUT|DELETE"), pick("/api/v1/items/" int(rand() * 99999) "|/healthz|/metrics|/api/v2/orders?page=" int(rand() * 40) "|/static/js/app." hex(8) ".js|/login"),
          pick("200|200|200|201|204|301|304|400|401|403|404|500"), int(rand() * 50000),
          pick("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36|kube-probe/1.29|Prometheus/2.51.0|curl/8.5.0|okhttp/4.12.0"), rand())
      } else if (r < 0.74) {
        line = sprintf("time=\"%s\" level=%s msg=\"%s\"", ts(), pick("info|info|debug|warning"),
          pick("All records are already up to date|Applying provider record filter for domains: [example.com. .example.com.]|Desired change: CREATE api.example.com A [Id: /hostedzone/Z0" toupper(hex(10)) "]|Fetching object s3://assets-bucket/" hex(10) ".tar.gz from https://assets-bucket.s3.eu-west-1.amazonaws.com|Connecting to database postgres://app@db:5432/app|Refreshing token cache for user " int(rand() * 9999) "|Received SIGTERM, draining connections"))
      } else if (r < 0.86) {
        line = sprintf("%s  %s 1 --- [%s] %s : %s", ts(), pick("INFO|INFO|DEBUG|WARN"), pick("nio-8080-exec-" int(rand() * 10) "|main|scheduling-1|kafka-consumer-2"),
          pick("c.e.shop.web.OrderController|o.s.web.servlet.DispatcherServlet|c.z.hikari.HikariPool|o.a.k.clients.consumer.KafkaConsumer|c.e.shop.service.PaymentService"),
          pick("Processed order " int(rand() * 99999) " for customer " int(rand() * 9999) " in " int(rand() * 90) " ms|Completed initialization in 3 ms|HikariPool-1 - Connection is not available, request timed out after 30000ms.|Committed offsets for partition orders-" int(rand() * 12) "|Payment authorised for invoice INV-" int(rand() * 999999)))
      } else if (r < 0.97) {
        line = sprintf("%s,%03d %s [%s] %s", substr(ts(), 1, 19), int(rand() * 1000), pick("INFO|INFO|DEBUG|WARNING"), pick("celery.worker|app.views|gunicorn.error|app.tasks"),
          pick("Task tasks.process_payment[" hex(8) "-" hex(4) "] succeeded in " rand() "s: None|GET /api/items 200 12ms|Booting worker with pid: " int(rand() * 9999) "|Uploaded report " hex(12) ".csv to bucket reports-prod|Retrying job " int(rand() * 999) " (attempt 2 of 5)"))
      } else if (r < 0.99) {
        line = sprintf("\tat %s(%s.java:%d)", pick("com.example.shop.service.PaymentService.charge|org.springframework.web.servlet.FrameworkServlet.service|java.base/java.lang.Thread.run|software.amazon.awssdk.core.internal.http.pipeline.stages.RetryableStage.execute"),
          pick("PaymentService|FrameworkServlet|Thread|RetryableStage"), int(rand() * 900))
      } else if (r < 0.998) {
        line = sprintf("%s  WARN 1 --- [main] c.e.shop.cache.RedisCache : cache miss for key session:%s, loading from database", ts(), hex(16))
      } else {
        k = int(rand() * 6)
        if (k == 0) line = sprintf("{\"level\":\"error\",\"ts\":%d.1,\"logger\":\"controller.ingress\",\"msg\":\"Reconciler error\",\"error\":\"AccessDenied: User: arn:aws:sts::123456789012:assumed-role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-%s/i-0%s is not authorized to perform: elasticloadbalancing:DescribeLoadBalancers because no identity-based policy allows the elasticloadbalancing:DescribeLoadBalancers action\\n\\tstatus code: 403, request id: %s-%s\"}", 1714550400 + int(rand() * 2000000), toupper(hex(12)), hex(16), hex(8), hex(4))
        else if (k == 1) line = sprintf("E05%02d 10:00:00.000000       1 aws_manager.go:148] Failed to regenerate ASG cache: cannot autodiscover ASGs: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/cluster-autoscaler/botocore-session-%d is not authorized to perform: autoscaling:DescribeTags", 1 + int(rand() * 28), 1700000000 + int(rand() * 9999999))
        else if (k == 2) line = sprintf("time=\"%s\" level=error msg=\"records retrieval failed: WebIdentityErr: failed to retrieve credentials\\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\\n\\tstatus code: 403, request id: %s\"", ts(), hex(8))
        else if (k == 3) line = sprintf("%s ERROR 1 --- [main] c.e.shop.S3Store : software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: %s)", ts(), toupper(hex(16)))
        else if (k == 4) line = sprintf("botocore.exceptions.NoCredentialsError: Unable to locate credentials")
        else line = sprintf("%s,000 ERROR [app.views] AccessDenied when reading s3://reports-prod/%s.csv: An error occurred (AccessDenied) when calling the GetObject operation: Access Denied", substr(ts(), 1, 19), hex(8))
      }
      print line
      n += length(line) + 1
    }
  }'
}

# gen_short BYTES: the short-line log on stdout.
gen_short() {
  awk -v target="$1" -v errors="$root/pkg/logclass/testdata/sdk_lines.tsv" '
  function hex(n,   s) { s = ""; while (n-- > 0) s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1); return s }
  function pick(s,   a, n) { n = split(s, a, "|"); return a[int(rand() * n) + 1] }
  function clock() { return sprintf("%02d:%02d:%02d", int(rand() * 24), int(rand() * 60), int(rand() * 60)) }
  BEGIN {
    # The error lines: every positive line of the SDK table (expected id, not None).
    while ((getline row < errors) > 0) {
      if (row ~ /^(None|expected)\t/) continue
      sub(/^[^\t]*\t[^\t]*\t[^\t]*\t/, "", row)
      nerr++; err[nerr] = row
    }
    if (nerr == 0) { print "no error lines in " errors > "/dev/stderr"; exit 1 }
    srand(20240502)
    n = 0
    while (n < target) {
      r = rand()
      if (r < 0.002) {
        line = err[int(rand() * nerr) + 1]
      } else if (r < 0.35) {
        line = sprintf("%s05%02d %s.%06d       1 %s", pick("I|I|I|W"), 1 + int(rand() * 28), clock(), int(rand() * 1000000),
          pick("reflector.go:351] Caches populated for *v1.Pod from k8s.io/client-go|leaderelection.go:281] successfully renewed lease kube-system/" pick("keda|aws-lb|ebs-csi") "|round_trippers.go:553] GET https://10.100.0.1/healthz 200 OK in " int(rand() * 9) " ms|controller.go:219] Starting EventSource source=kind source: *v1.Pod|warnings.go:70] v1 Endpoints is deprecated in v1.33+; use EndpointSlice"))
      } else if (r < 0.68) {
        line = sprintf("{\"level\":\"%s\",\"ts\":%d.%06d,\"msg\":\"%s\",\"status\":%d,\"ms\":%d}", pick("info|info|debug"),
          1714550400 + int(rand() * 2000000), int(rand() * 1000000), pick("health check ok|readiness probe passed|liveness probe ok|ping from kubelet"),
          200 + 4 * int(rand() * 2), int(rand() * 40))
      } else {
        line = sprintf("10.0.%d.%d - - [%02d/May/2024:%s +0000] \"GET %s HTTP/1.1\" %s %d \"-\" \"%s\"",
          int(rand() * 255), int(rand() * 255), 1 + int(rand() * 28), clock(),
          pick("/healthz|/readyz|/livez|/metrics|/ping"), pick("200|200|200|204|503"), int(rand() * 900),
          pick("kube-probe/1.29|Prometheus/2.51|Go-http-client/1.1|curl/8.5"))
      }
      print line
      n += length(line) + 1
    }
  }'
}

# cached_log PROFILE: the path of PROFILE's log, generated once per version
# of its generator (and of awk, whose rand() it uses).
cached_log() {
  local profile=$1 key file
  key=$({
    declare -f "gen_$profile"
    cat "$root/pkg/logclass/testdata/sdk_lines.tsv"
    readlink -f "$(command -v awk)"
    echo "$size_mib"
  } | sha256sum | cut -c1-16)
  file=$cache/$profile-${size_mib}MiB-$key.log
  if [[ ! -s $file ]]; then
    mkdir -p "$cache"
    rm -f "$cache/$profile-${size_mib}MiB-"*.log # older versions
    echo "generating the $profile-line log (${size_mib} MiB) in $cache ..." >&2
    "gen_$profile" $((size_mib * 1024 * 1024)) > "$file.$$.tmp"
    mv "$file.$$.tmp" "$file"
  fi
  echo "$file"
}

if [[ ! -x $plugin || ! -x $(dirname "$plugin")/irsa-core ]]; then
  echo "building $plugin and irsa-core ..."
  (cd "$root" && go build -o "$plugin" ./cmd/kubectl-irsa && go build -o "$(dirname "$plugin")/irsa-core" ./cmd/irsa-core)
fi
echo "building bench/logscan ..."
(cd "$root" && go build -o "$tmp/logscan" ./bench/logscan)

# wall CMD...: runs CMD with its output in a file (GNU grep stops at the first
# match when its output is /dev/null), prints its wall time and its CPU time
# (user + system, all threads, to 10 ms; 0 without /usr/bin/time) in seconds. CPU time
# is less disturbed by other load than wall time: on a busy machine compare
# those too. doctor exits 1 when it reports findings: only 2 and up are
# failures.
wall() {
  local s e rc=0 cpu=0 timer=()
  if [[ -x /usr/bin/time ]]; then timer=(/usr/bin/time -f '%U %S' -o "$tmp/cpu.txt"); fi
  s=$(date +%s.%N)
  "${timer[@]}" "$@" > "$tmp/out.txt" 2> "$tmp/err.txt" || rc=$?
  e=$(date +%s.%N)
  if ((rc > 1)); then
    echo "FAIL: $* exited $rc: $(head -c 500 "$tmp/err.txt")" >&2
    exit 1
  fi
  if ((${#timer[@]})); then cpu=$(tail -n 1 "$tmp/cpu.txt" | awk '{ print $1 + $2 }'); fi
  echo "$(calc "$e - $s") $cpu"
}

# min A B
min() { calc "($1 < $2) ? $1 : $2"; }

# Peak RSS (KiB) of a command, from /usr/bin/time -v.
peak_rss() {
  if [[ ! -x /usr/bin/time ]]; then return; fi
  /usr/bin/time -v "$@" > /dev/null 2> "$tmp/time.txt" || true
  awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$tmp/time.txt"
}

# bench NAME LOG: runs the contenders interleaved on LOG, round after round,
# so that load from other processes on the machine hits them alike; prints
# the best round of each and appends NAME's summary line to $tmp/summary.
# Sets doctor_kib to doctor's lowest peak RSS of three runs on LOG.
bench() {
  local name=$1 log=$2 bytes mib lines grep_count grep_s=1e9 doctor_s=1e9 lib_s=1e9 grep_cpu=1e9 doctor_cpu=1e9
  local g d l gc dc lc ratio status=0
  cat "$log" > /dev/null # warm the page cache for every contender
  bytes=$(wc -c < "$log")
  mib=$(calc "$bytes / 1048576")
  lines=$(wc -l < "$log")
  printf -- '--- %s: %s lines, %.1f MiB, %.0f bytes a line\n' "$name" "$lines" "$mib" "$(calc "$bytes / $lines")"
  grep_count=$(grep -c AccessDenied "$log" || true)
  for round in $(seq "$rounds"); do
    read -r g gc <<< "$(wall grep -c AccessDenied "$log")"
    read -r d dc <<< "$(wall "$plugin" doctor --logs-file "$log" -o json)"
    read -r l lc <<< "$(wall "$tmp/logscan" "$log")"
    printf 'round %d: grep %.3f s, doctor %.3f s (%.2fx), Scan alone %.3f s; CPU grep %.3f s, doctor %.3f s\n' \
      "$round" "$g" "$d" "$(calc "$g / $d")" "$l" "$gc" "$dc"
    grep_s=$(min "$grep_s" "$g") doctor_s=$(min "$doctor_s" "$d") lib_s=$(min "$lib_s" "$l")
    grep_cpu=$(min "$grep_cpu" "$gc") doctor_cpu=$(min "$doctor_cpu" "$dc")
  done
  "$plugin" doctor --logs-file "$log" -o json > "$tmp/doctor.json" || true
  ratio=$(calc "$grep_s / $doctor_s")
  printf 'grep -c AccessDenied                  : %6.3f s  %6.0f MiB/s  (%s matching lines)\n' "$grep_s" "$(calc "$mib / $grep_s")" "$grep_count"
  printf 'kubectl irsa doctor --logs-file -o json: %6.3f s  %6.0f MiB/s  (%s findings)\n' "$doctor_s" "$(calc "$mib / $doctor_s")" "$(grep -c '"id":' "$tmp/doctor.json" || true)"
  printf 'logclass Scan alone (bench/logscan)    : %6.3f s  %6.0f MiB/s\n' "$lib_s" "$(calc "$mib / $lib_s")"
  if (($(calc "($ratio < $min_ratio) ? 1 : 0"))); then
    echo "FAIL: on the $name log doctor --logs-file is slower than $min_ratio x grep -c" >&2
    status=1
  fi
  printf '%-24s grep -c %.3f s, doctor %.3f s: %.2fx grep -c (target >= %.2f); CPU time grep -c %.3f s, doctor %.3f s\n' \
    "$name log:" "$grep_s" "$doctor_s" "$ratio" "$min_ratio" "$grep_cpu" "$doctor_cpu" >> "$tmp/summary"
  doctor_kib=
  for _ in 1 2 3; do # the lowest of three: page-in noise only adds
    d=$(peak_rss "$plugin" doctor --logs-file "$log" -o json)
    if [[ -n $d && (-z $doctor_kib || $d -lt $doctor_kib) ]]; then doctor_kib=$d; fi
  done
  return $status
}

status=0
max_doctor_kib=
if [[ -n ${LOG:-} ]]; then
  bench "$(basename "$LOG")" "$LOG" || status=1
  max_doctor_kib=$doctor_kib
else
  for profile in $profiles; do
    bench "$profile-line" "$(cached_log "$profile")" || status=1
    if [[ -n $doctor_kib && (-z $max_doctor_kib || $doctor_kib -gt $max_doctor_kib) ]]; then max_doctor_kib=$doctor_kib; fi
  done
fi
base_kib=
for _ in 1 2 3; do
  b=$(peak_rss "$plugin" version)
  if [[ -n $b && (-z $base_kib || $b -lt $base_kib) ]]; then base_kib=$b; fi
done

printf -- '--- results (best of %d interleaved rounds, page cache warm, %s)\n' "$rounds" "$(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
cat "$tmp/summary"
if [[ -n $base_kib && -n $max_doctor_kib ]]; then
  delta=$((max_doctor_kib - base_kib))
  printf 'peak RSS: doctor %.1f MiB (the higher of the logs), kubectl irsa version %.1f MiB: %+.1f MiB (target <= +%d MiB)\n' \
    "$(calc "$max_doctor_kib / 1024")" "$(calc "$base_kib / 1024")" "$(calc "$delta / 1024")" "$max_rss_delta_mib"
  if ((delta > max_rss_delta_mib * 1024)); then
    echo "FAIL: doctor's peak RSS is more than $max_rss_delta_mib MiB above the process baseline" >&2
    status=1
  fi
else
  echo "peak RSS: unknown (no /usr/bin/time)"
fi
if ((status == 0)); then echo "OK"; fi
exit $status
